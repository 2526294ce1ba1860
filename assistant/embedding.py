"""The sentence-transformers embedder, loaded offline once per process; also a LangChain `Embeddings`."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings


def cpu_has_bf16() -> bool:
    """True when the CPU runs bf16 matmuls natively (AVX512-BF16 or AMX); elsewhere bf16 is slower than fp32."""
    try:
        flags = open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Embedder(Embeddings):
    """Normalised MiniLM embeddings as float32 arrays; `embed_documents`/`embed_query` give Python floats."""

    def __init__(self, model_path: str, dtype: str = "auto", batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.dtype = "bf16" if dtype == "bf16" or (dtype == "auto" and cpu_has_bf16()) else "fp32"
        if self.dtype == "bf16":
            self.model = self.model.to(torch.bfloat16)
        self.batch_size = batch_size
        self.dimension = self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension()
        self._lock = threading.Lock()  # torch is thread-safe, but serialising keeps latency predictable

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


@lru_cache(maxsize=4)
def get_embedder(model_path: str, dtype: str = "auto", batch_size: int = 64) -> Embedder:
    """One model per process and configuration."""
    return Embedder(model_path, dtype, batch_size)
