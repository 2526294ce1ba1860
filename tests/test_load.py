"""Bounded loopback load test: 50 concurrent API clients for 30 seconds, zero errors."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from test_api import live_server

from assistant.api import create_app

pytestmark = pytest.mark.slow

QUESTIONS = [
    ("Which treaty forbids national appropriation of the Moon?", "ost"),
    ("Who is absolutely liable for damage on the ground caused by a space object?", "liability"),
    ("How many countries have signed the Artemis Accords?", "artemis"),
    ("Are nuclear weapons allowed in orbit?", "ost"),
]
CLIENTS, SECONDS = 50, 30.0


def test_fifty_clients_for_thirty_seconds(small_assistant):
    with live_server(create_app(assistant=small_assistant, ui=False)) as base:
        deadline = time.monotonic() + SECONDS

        def client_loop(n: int) -> tuple[int, list[str]]:
            done, errors = 0, []
            with httpx.Client(base_url=base, timeout=60) as client:
                while time.monotonic() < deadline:  # bounded in time; each request is one loopback call
                    question, doc_id = QUESTIONS[(n + done) % len(QUESTIONS)]
                    got = client.post("/v1/ask", json={"question": question})
                    if got.status_code != 200 or got.json()["citations"][0]["doc_id"] != doc_id:
                        errors.append(f"{got.status_code}: {got.text[:200]}")
                    done += 1
            return done, errors

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(client_loop, range(CLIENTS)))
    total = sum(done for done, _ in results)
    errors = [e for _, errs in results for e in errs]
    print(f"\n{CLIENTS} clients x {SECONDS:.0f} s: {total} requests, {total / SECONDS:.1f} req/s, {len(errors)} errors")
    assert not errors, errors[:3]
    assert total >= CLIENTS
