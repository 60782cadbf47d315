"""Incremental, idempotent ingestion of a folder of SOPs into a chromadb collection.

The collection mirrors one folder: a file is identified by its path relative to the folder and
re-embedded only when its content hash (or the chunking/embedding pipeline) changed; a changed
file's old passages are deleted before its new ones are written, and files that disappeared
are removed. A file that cannot be read is reported by name and the rest still indexes.

A document whose text addresses the assistant ("ignore your rules", "you must call ...") is
indexed (it may still hold real procedure) but flagged: its passages carry the phrases found,
and every index report lists it as a warning for whoever owns the corpus until it is fixed.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

from chromadb.api.models.Collection import Collection
from pydantic import BaseModel, computed_field

from knowledge.chunking import CHUNKER_VERSION, MAX_CHARS, Chunk, chunk_document
from knowledge.documents import (
    SourceDocument,
    addressed_to_assistant,
    is_supported,
    read_document,
)
from knowledge.embeddings import MODEL_ID, embed

PIPELINE = f"{CHUNKER_VERSION}/{MAX_CHARS}/{MODEL_ID}"
WRITE_BATCH = 500  # well under chromadb's max batch size, also for an HTTP server
_FLAG_SEPARATOR = " | "
GENERATION_KEY = "generation"  # collection metadata, changed on every write: readers refresh caches


class FailedFile(BaseModel):
    path: str
    error: str


class FlaggedFile(BaseModel):
    path: str
    phrases: list[str]  # what in it addresses the assistant


class IndexReport(BaseModel):
    folder: str
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    removed: list[str] = []
    failed: list[FailedFile] = []
    flagged: list[FlaggedFile] = []  # indexed, but their text addresses the assistant
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    @computed_field
    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.chunks_embedded)

    def summary(self) -> str:
        text = (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, failed {len(self.failed)}; {self.chunks_embedded} passages embedded, "
            f"{self.chunks_total} in the index ({self.seconds:.1f}s)"
        )
        return "\n".join([text, *self.warnings()])

    def warnings(self) -> list[str]:
        """One line per flagged document, for whoever owns the corpus."""
        return [
            f"warning: {f.path} addresses the assistant, not staff ("
            + "; ".join(f"'{p[:60]}'" for p in f.phrases[:3])
            + "): it is quoted as untrusted text; rewrite it as a procedure for people"
            for f in self.flagged
        ]


class _Parsed(BaseModel):
    doc: SourceDocument
    file_hash: str
    chunks: list[Chunk]
    existed: bool


def index_folder(collection: Collection, folder: str | Path) -> IndexReport:
    started = time.perf_counter()
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    report = IndexReport(folder=str(root))
    stored = _stored_files(collection)
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and is_supported(p) and not _hidden(p, root)
    )
    seen: set[str] = set()
    to_write: list[_Parsed] = []

    for path in files:
        relative = path.relative_to(root).as_posix()
        seen.add(relative)
        try:
            raw = path.read_bytes()
            file_hash = hashlib.sha256(raw).hexdigest()
            if stored.get(relative, {}).get("fingerprint") == (file_hash, PIPELINE):
                report.unchanged.append(relative)
                continue
            doc = read_document(path, relative, raw)
            chunks = chunk_document(doc)
        except Exception as error:  # one bad file must not stop the others; the report names it
            report.failed.append(
                FailedFile(path=relative, error=f"{type(error).__name__}: {error}")
            )
            continue
        to_write.append(
            _Parsed(doc=doc, file_hash=file_hash, chunks=chunks, existed=relative in stored)
        )

    texts = [c.embedding_text(p.doc.title) for p in to_write for c in p.chunks]
    vectors = iter(embed(texts))
    for parsed in to_write:
        _replace_file(collection, parsed, [next(vectors) for _ in parsed.chunks], stored)
        (report.updated if parsed.existed else report.added).append(parsed.doc.path)
    report.chunks_embedded = len(texts)

    # Gone from the folder, or now unreadable: their old passages would be stale or orphaned.
    failed = {f.path for f in report.failed}
    for relative in sorted(set(stored) - (seen - failed)):
        collection.delete(ids=stored[relative]["ids"])
        if relative not in failed:
            report.removed.append(relative)

    if report.changed or failed & set(stored):
        collection.modify(metadata={GENERATION_KEY: uuid.uuid4().hex})
    report.flagged = [
        FlaggedFile(path=path, phrases=entry["flagged"].split(_FLAG_SEPARATOR))
        for path, entry in sorted(_stored_files(collection).items())
        if entry.get("flagged")
    ]
    report.chunks_total = collection.count()
    report.seconds = time.perf_counter() - started
    return report


def _replace_file(collection: Collection, parsed: _Parsed, vectors: list, stored: dict) -> None:
    old_ids = stored.get(parsed.doc.path, {}).get("ids", [])
    if old_ids:
        collection.delete(ids=old_ids)
    doc = parsed.doc
    flagged = _FLAG_SEPARATOR.join(addressed_to_assistant("\n".join(p.text for p in doc.pages)))
    ids = [f"{doc.path}#{parsed.file_hash[:12]}#{i}" for i in range(len(parsed.chunks))]
    metadatas = [
        {
            "doc_id": doc.doc_id,
            "title": doc.title,
            "owner": doc.owner,
            "version": doc.version,
            "effective": doc.effective,
            "path": doc.path,
            "kind": doc.kind,
            "section": c.section,
            "section_no": c.section_no,
            "updated": c.updated,
            "part": c.part,
            "file_hash": parsed.file_hash,
            "pipeline": PIPELINE,
            "flagged": flagged,
            "parts": len(parsed.chunks),  # a run killed between batches leaves fewer: re-index
        }
        for c in parsed.chunks
    ]
    documents = [c.text for c in parsed.chunks]
    for start in range(0, len(ids), WRITE_BATCH):
        end = start + WRITE_BATCH
        collection.add(
            ids=ids[start:end],
            embeddings=vectors[start:end],
            documents=documents[start:end],
            metadatas=metadatas[start:end],
        )


def _stored_files(collection: Collection) -> dict[str, dict]:
    """{relative path: {'fingerprint': (hash, pipeline), 'ids': [...]}} for what is indexed now."""
    files: dict[str, dict] = {}
    got = collection.get(include=["metadatas"])
    for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
        entry = files.setdefault(
            meta["path"],
            {
                "fingerprint": (meta.get("file_hash"), meta.get("pipeline")),
                "ids": [],
                "flagged": meta.get("flagged", ""),
            },
        )
        entry["ids"].append(chunk_id)
        entry.setdefault("parts", meta.get("parts"))
        if entry["fingerprint"] != (meta.get("file_hash"), meta.get("pipeline")):
            entry["fingerprint"] = None  # mixed versions (an interrupted write): re-index this file
    for entry in files.values():
        if entry["parts"] is not None and len(entry["ids"]) != entry["parts"]:
            entry["fingerprint"] = None  # some passages missing (an interrupted write)
    return files


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
