"""Shared fixtures: the real embedding model (loaded once), real Chroma in temporary directories."""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant, Settings  # noqa: E402
from assistant.embedding import get_embedder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SPACE_LAW = SHARED / "space-law"


@pytest.fixture(scope="session")
def embedder():
    settings = Settings()
    return get_embedder(settings.model_path, settings.embedding_dtype, settings.embedding_batch_size)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_doc(folder: Path, name: str, front: dict, body: str) -> Path:
    """A Markdown document with front matter, as users write them."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n" + textwrap.dedent(body).strip() + "\n")
    return path


SMALL_DOCS = {
    "ost.md": (
        {"id": "ost", "title": "Outer Space Treaty", "short_title": "Outer Space Treaty", "kind": "treaty",
         "date": "2025-11-20", "source_url": "https://example.org/ost", "summary_of": "official text"},
        """
        # Outer Space Treaty

        ## Article II: No national appropriation

        Article II of the Outer Space Treaty forbids national appropriation of outer space and celestial bodies by claim of sovereignty, use or occupation.

        ## Article IV: No weapons of mass destruction

        Article IV of the Outer Space Treaty bans placing nuclear weapons in orbit around the Earth or on celestial bodies.
        """,
    ),
    "liability.md": (
        {"id": "liability", "title": "Liability Convention", "short_title": "Liability Convention", "kind": "treaty",
         "date": "2025-11-20", "source_url": "https://example.org/liab", "summary_of": "official text"},
        """
        # Liability Convention

        ## Article II: Absolute liability

        Article II of the Liability Convention makes a launching State absolutely liable for damage its space object causes on the surface of the Earth or to aircraft in flight.

        ## Cosmos 954

        Canada claimed compensation from the Soviet Union after the Cosmos 954 satellite scattered radioactive debris over northern Canada in January 1978.
        """,
    ),
    "artemis.md": (
        {"id": "artemis", "title": "Artemis Accords", "short_title": "Artemis Accords", "kind": "accord",
         "date": "2025-11-20", "source_url": "https://example.org/artemis"},
        """
        # Artemis Accords

        ## Signatories

        As of 20 November 2025, 59 countries had signed the Artemis Accords.

        ## Section 10: Space resources

        Section 10 of the Artemis Accords says that extracting space resources does not in itself amount to national appropriation.
        """,
    ),
}


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    for name, (front, body) in SMALL_DOCS.items():
        write_doc(folder, name, front, body)
    return folder


@pytest.fixture
def small_settings(tmp_path, small_corpus) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dirs=[small_corpus], _env_file=None)


@pytest.fixture
def small_assistant(small_settings, embedder) -> Assistant:
    return Assistant.from_settings(small_settings)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory) -> Settings:
    """The shipped corpus, ingested once per test session into a temporary data dir."""
    data = tmp_path_factory.mktemp("corpus-index")
    return Settings(data_dir=data, corpus_dirs=[REPO / "corpus"], _env_file=None)


@pytest.fixture(scope="session")
def corpus_assistant(corpus_settings, embedder) -> Assistant:
    return Assistant.from_settings(corpus_settings)


@pytest.fixture(scope="session")
def official_assistant(tmp_path_factory, embedder) -> Assistant:
    """The shipped corpus plus the official texts of ../shared/space-law, read in place."""
    if not SPACE_LAW.is_dir():
        pytest.skip("../shared/space-law is not beside the repository")
    data = tmp_path_factory.mktemp("official-index")
    settings = Settings(data_dir=data, corpus_dirs=[REPO / "corpus", SPACE_LAW], _env_file=None)
    return Assistant.from_settings(settings)
