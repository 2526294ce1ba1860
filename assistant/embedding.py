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


SMALL_BATCH = 4
# One lock for every embedder of the process: torch's thread count is process-wide, so one model must not
# switch it while another encodes (serialising also keeps latency predictable).
TORCH_LOCK = threading.Lock()


class Embedder(Embeddings):
    """Normalised MiniLM embeddings as float32 arrays; `embed_documents`/`embed_query` give Python floats."""

    def __init__(self, model_path: str, dtype: str = "fp32", batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self.batch_threads = max(1, os.cpu_count() or 1)
        torch.set_num_threads(self.batch_threads)
        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.dtype = "bf16" if dtype == "bf16" or (dtype == "auto" and cpu_has_bf16()) else "fp32"
        if self.dtype == "bf16":
            self.model = self.model.to(torch.bfloat16)
        self.batch_size = batch_size
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension: int = int(dimension() or 0)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # A query or two runs on one thread: a short input gains nothing from intra-op parallelism, and
        # with the cores shared (other requests, another worker, an ingest) two threads wait on each other
        # (measured here under load: p95 388 ms on 2 threads, 24 ms on 1). Batches use every core.
        threads = 1 if len(texts) <= SMALL_BATCH else self.batch_threads
        with TORCH_LOCK:
            if self._torch.get_num_threads() != threads:
                self._torch.set_num_threads(threads)
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        # Normalised in float32, not in the model's dtype: a bf16 norm is off by up to about 1%, so a vector's dot
        # product with the query was not the cosine Chroma computes (it normalises again in cosine space).
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain's Embeddings interface: one vector per text."""
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain's Embeddings interface: the vector of one query."""
        return self.encode([text])[0].tolist()


@lru_cache(maxsize=4)
def get_embedder(model_path: str, dtype: str = "fp32", batch_size: int = 64) -> Embedder:
    """One model per process and configuration."""
    return Embedder(model_path, dtype, batch_size)
