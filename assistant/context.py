"""Build the objects every entry point needs (store, retriever, tool context) from settings."""

from __future__ import annotations

from functools import lru_cache

from assistant.settings import Settings
from tools.registry import ToolContext
from tools.store import Store


def open_store(settings: Settings, read_only: bool = False) -> Store:
    path = settings.database
    if read_only and not path.exists():
        raise SystemExit(
            f"{path}: no database yet; run `stockpilot data generate` or `stockpilot data import` first"
        )
    return Store(path, read_only=read_only)


@lru_cache(maxsize=4)
def _retriever(vector_store: str, chroma_url: str | None):
    from knowledge.retrieve import open_retriever

    return open_retriever(path=vector_store, url=chroma_url)


def open_context(
    settings: Settings, read_only: bool = False, with_sops: bool = True
) -> ToolContext:
    sops = _retriever(str(settings.vector_store), settings.chroma_url) if with_sops else None
    return ToolContext(
        store=open_store(settings, read_only=read_only),
        sops=sops,
        forecast_backend=settings.forecast_backend,
        dask_address=settings.dask_address,
    )
