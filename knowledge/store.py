"""Open the chromadb collection that holds the passages: an embedded PersistentClient folder
by default, or a chromadb HTTP server (`chroma run`) for an index shared by a team."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import chromadb
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from knowledge.embeddings import MiniLMEmbeddingFunction


def open_client(path: str | Path | None = None, url: str | None = None):
    """A chromadb client on the folder ``path``, or on the server ``url`` (which wins).

    The caller says where: the entry points read settings, this library does not."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if not parsed.hostname:
            raise ValueError(
                f"chroma_url: cannot read a host from '{url}'; use e.g. http://localhost:8000"
            )
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=settings)
    if path is None:
        raise ValueError("vector store: give a chromadb folder (path) or a server (url)")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=settings)


def open_collection(client, name: str) -> Collection:
    """Get or create ``name`` with cosine distance and our embedding function (always passed:
    chromadb's default one would try to download a model)."""
    if not 3 <= len(name) <= 512:
        raise ValueError(f"collection: '{name}' must be 3-512 characters long")
    return client.get_or_create_collection(
        name=name,
        embedding_function=MiniLMEmbeddingFunction(),
        configuration={"hnsw": {"space": "cosine"}},
    )
