"""Cross-instrument provision search through every face: Python API, CLI, HTTP API (real model, real Chroma,
real uvicorn on 127.0.0.1), and the chat's routing of "which provisions …" questions."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from conftest import REPO
from test_api import live_server

from assistant.errors import BadQuestion
from assistant.provisions import ProvisionResults

FAMILIES = ["UN treaties", "UN principles and declarations", "COPUOS guidelines", "National laws", "Accords and programmes"]


def keys(results: ProvisionResults) -> set[tuple[str, str]]:
    return {(p.instrument, p.key) for p in results.provisions}


def test_provisions_on_liability_span_instruments_grouped_in_order(corpus_assistant):
    found = corpus_assistant.provisions("who pays for damage caused by a satellite", k=20)
    got = keys(found)
    assert {("Liability Convention", "article 2"), ("Outer Space Treaty", "article 7")} <= got
    assert len({p.instrument for p in found.provisions}) >= 3
    # One entry per provision; grouped by family in the stable order, UN treaties by date.
    assert len(got) == len(found.provisions)
    order = [FAMILIES.index(p.family) for p in found.provisions]
    assert order == sorted(order)
    treaties = list(dict.fromkeys(p.instrument for p in found.provisions if p.family == "UN treaties"))
    assert treaties.index("Outer Space Treaty") < treaties.index("Liability Convention")
    liability = next(p for p in found.provisions if (p.instrument, p.key) == ("Liability Convention", "article 2"))
    assert liability.label == "Article II" and "961 UNTS 187" in liability.official_citation
    assert liability.sentence and liability.sentence in liability.text.text
    assert sorted(p.rank for p in found.provisions) == list(range(1, len(found.provisions) + 1))


def test_history_and_commentary_are_not_provisions(corpus_assistant):
    found = corpus_assistant.provisions("history of the negotiation and status of parties", k=50)
    assert all(p.key.split(" ")[0] not in ("history", "status") for p in found.provisions)
    assert all(p.text.doc_id not in ("copuos", "unoosa", "seed-space-race-2024") for p in found.provisions)


def test_official_text_first_with_brief_as_companion(official_assistant):
    found = official_assistant.provisions("registration of space objects", k=20)
    article = next(p for p in found.provisions if (p.instrument, p.key) == ("Registration Convention", "article 2"))
    assert article.text.source_type == "official" and article.text.doc_id == "registration-1975"
    assert article.companion is not None and article.companion.doc_id == "registration-convention"
    assert article.official_citation.startswith("1023 UNTS 15")
    assert article.date == "1974-11-12"  # the official text's date, not our brief's


def test_filters_and_bad_input(corpus_assistant):
    found = corpus_assistant.provisions("liability for damage", filters={"kind": ["national-law"]})
    assert found.provisions and all(p.family == "National laws" for p in found.provisions)
    for bad in ("", "   "):
        with pytest.raises(BadQuestion):
            corpus_assistant.provisions(bad)
    with pytest.raises(BadQuestion):
        corpus_assistant.provisions("registration", k=0)


def test_cli_provisions_table_and_json(corpus_settings, corpus_assistant):
    env = {"SGA_DATA_DIR": str(corpus_settings.data_dir), "SGA_CORPUS_DIRS": str(corpus_settings.corpus_dirs[0]),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant", "provisions", *args], capture_output=True,
                              text=True, cwd=REPO, env=env, timeout=300)
    out = run("--json", "--k", "10", "registration of space objects")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"instrument": "Registration Convention", "key": "article 2"}.items() <= next(
        p for p in data["provisions"] if p["key"] == "article 2" and p["instrument"] == "Registration Convention").items()
    table = run("registration of space objects")
    assert table.returncode == 0 and "Registration Convention" in table.stdout and "Article II" in table.stdout
    bad = run(" ")
    assert bad.returncode == 1 and "empty" in bad.stderr and "Traceback" not in bad.stderr


def test_http_provisions_route_and_schema(corpus_assistant):
    from assistant.api import create_app

    with live_server(create_app(assistant=corpus_assistant, ui=False)) as base:
        reply = httpx.post(f"{base}/v1/provisions", json={"topic": "rescue and return of astronauts", "k": 15}, timeout=60)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert ("Rescue Agreement", "article 4") in {(p["instrument"], p["key"]) for p in body["provisions"]}
        assert all({"label", "official_citation", "date", "sentence", "text", "family"} <= set(p) for p in body["provisions"])
        schema = httpx.get(f"{base}/openapi.json").json()
        assert "/v1/provisions" in schema["paths"]
        assert {"ProvisionsRequest", "ProvisionsResponse", "Provision"} <= set(schema["components"]["schemas"])
        for bad in ({"topic": ""}, {"topic": "x", "k": 0}, {"topic": "x" * 5000}, {"k": 3}):
            got = httpx.post(f"{base}/v1/provisions", json=bad, timeout=30)
            assert got.status_code in (400, 422) and "detail" in got.json() and "Traceback" not in got.text


def test_chat_question_asking_for_provisions_gets_the_provisions_view(corpus_assistant):
    from assistant.ui import ChatHandlers

    handlers = ChatHandlers(corpus_assistant)
    *_, last = handlers.respond("Which provisions deal with the registration of space objects?", [], [])
    chat, sources, turns = last[0], last[1], last[2]
    assert "Registration Convention" in chat[-1]["content"] and "Article II" in chat[-1]["content"]
    assert 'class="sga-instrument"' in sources and "<details>" in sources
    assert turns[-1]["answer"]["citations"] == []
