"""Search the indexed SOPs: passages with citations and scores, by vectors or hybrid BM25 + vectors.

``open_retriever`` is the entry point for the agent, the CLI and the UI; ``Retriever.index``
keeps the collection in step with a folder (see knowledge.index).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from chromadb.api.models.Collection import Collection
from pydantic import BaseModel, computed_field

from knowledge.chunking import matching_text
from knowledge.embeddings import MODEL_ID, embed
from knowledge.index import GENERATION_KEY, IndexReport, index_folder
from knowledge.lexical import KeywordIndex, reciprocal_rank_fusion
from knowledge.query import expand_query
from knowledge.store import open_client, open_collection

Mode = Literal["vector", "hybrid"]
DEFAULT_MODE: Mode = "hybrid"  # chosen by benchmarks/bench_retrieval.py (docs/benchmarks.md)
CANDIDATES = 20  # per ranking, before fusion
SHIPPED_SOPS = Path(__file__).parent / "sops"


class Passage(BaseModel):
    doc_id: str
    title: str
    section: str
    section_no: str = ""
    version: str = ""
    owner: str = ""
    updated: str = ""
    path: str  # relative to the indexed folder
    text: str
    # vector mode: cosine similarity; hybrid mode: reciprocal-rank fusion, 1.0 = first in both rankings
    score: float

    @computed_field
    @property
    def citation(self) -> str:
        """'SOP-07 Supplier communication and escalation §3 Escalation ladder'."""
        return f"{self.doc_id} {self.title} {self._section_ref()}".strip()

    @property
    def short_citation(self) -> str:
        """'SOP-07 §3': what a quote is labelled with."""
        return f"{self.doc_id} {self._section_ref(short=True)}".strip()

    def _section_ref(self, short: bool = False) -> str:
        if self.section_no:
            return f"§{self.section_no}" if short else f"§{self.section_no} {self.section}"
        return f"({self.section})" if self.section else ""


class Retriever:
    """One collection of passages. Cheap to keep: the embedder loads on the first search."""

    def __init__(self, collection: Collection, client=None, mode: Mode = DEFAULT_MODE):
        self.collection = collection
        self.mode = mode
        self._client = client
        self._keywords: tuple[str | None, KeywordIndex, dict[str, Passage]] | None = None

    @property
    def method(self) -> str:
        return f"{MODEL_ID} vectors" + (
            " + BM25, reciprocal-rank fusion" if self.mode == "hybrid" else ""
        )

    def count(self) -> int:
        return self.collection.count()

    def index(self, folder: str | Path) -> IndexReport:
        report = index_folder(self.collection, folder)
        self._keywords = None
        return report

    def search(self, query: str, k: int = 3, mode: Mode | None = None) -> list[Passage]:
        query = expand_query(" ".join(query.split()))
        size = self.collection.count()
        if not query or size == 0 or k < 1:
            return []
        vector_hits = self._vector_search(query, min(max(CANDIDATES, k), size))
        if (mode or self.mode) == "vector":
            return list(vector_hits.values())[:k]
        keywords, passages = self._keyword_index()
        fused = reciprocal_rank_fusion([list(vector_hits), keywords.ranked(query, CANDIDATES)])
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        known = passages | vector_hits
        return [
            known[i].model_copy(update={"score": round(fused[i], 4)}) for i in best if i in known
        ]

    def _vector_search(self, query: str, n: int) -> dict[str, Passage]:
        """{store id: passage}, nearest first."""
        got = self.collection.query(
            query_embeddings=[embed([query])[0]],
            n_results=n,
            include=["metadatas", "documents", "distances"],
        )
        rows = zip(
            got["ids"][0],
            got["metadatas"][0],
            got["documents"][0],
            got["distances"][0],
            strict=True,
        )
        return {
            chunk_id: _passage(meta, text, score=round(1.0 - distance, 4))
            for chunk_id, meta, text, distance in rows
        }

    def _keyword_index(self) -> tuple[KeywordIndex, dict[str, Passage]]:
        """BM25 over every stored passage, rebuilt when the collection's generation changes
        (another process, or a shared server, may have re-indexed since)."""
        generation = self._generation()
        if self._keywords is None or self._keywords[0] != generation:
            got = self.collection.get(include=["metadatas", "documents"])
            rows = zip(got["ids"], got["metadatas"], got["documents"], strict=True)
            passages = {chunk_id: _passage(meta, text, score=0.0) for chunk_id, meta, text in rows}
            texts = [matching_text(p.title, p.section, p.text) for p in passages.values()]
            self._keywords = (generation, KeywordIndex(list(passages), texts), passages)
        return self._keywords[1], self._keywords[2]

    def _generation(self) -> str | None:
        if self._client is None:
            return (self.collection.metadata or {}).get(GENERATION_KEY)
        fresh = self._client.get_collection(
            self.collection.name, embedding_function=self.collection._embedding_function
        )
        return (fresh.metadata or {}).get(GENERATION_KEY)


_PASSAGE_FIELDS = (
    "doc_id",
    "title",
    "section",
    "section_no",
    "version",
    "owner",
    "updated",
    "path",
)


def _passage(meta: dict, text: str, score: float) -> Passage:
    return Passage(
        text=text, score=score, **{name: str(meta.get(name, "")) for name in _PASSAGE_FIELDS}
    )


def open_retriever(
    path: str | Path | None = None,
    url: str | None = None,
    collection: str = "sops",
    mode: Mode = DEFAULT_MODE,
) -> Retriever:
    """The SOP retriever over an embedded chromadb folder (``path``) or a chromadb HTTP
    server (``url``, which wins when given); one of them is required."""
    client = open_client(path=path, url=url)
    return Retriever(open_collection(client, collection), client=client, mode=mode)
