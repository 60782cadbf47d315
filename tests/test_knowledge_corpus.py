"""The shipped SOP corpus and the chunker: structure the assistant relies on (no model needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.chunking import MAX_CHARS, chunk_document, split_sections
from knowledge.documents import UnreadableDocumentError, read_document, split_front_matter
from knowledge.retrieve import SHIPPED_SOPS, Passage

SOP_FILES = sorted(SHIPPED_SOPS.glob("*.md"))
ALERT_KINDS = ["demand_spike", "demand_drop", "data_error", "supplier_delay", "shrinkage"]


def _doc(path: Path):
    return read_document(path, path.name, path.read_bytes())


def test_corpus_has_at_least_25_sops_with_unique_sequential_ids():
    ids = [_doc(p).doc_id for p in SOP_FILES]
    assert len(ids) >= 25
    assert ids == [f"SOP-{i:02d}" for i in range(1, len(ids) + 1)]


@pytest.mark.parametrize("path", SOP_FILES, ids=lambda p: p.stem)
def test_every_sop_has_owner_version_and_dated_numbered_sections(path):
    meta, _ = split_front_matter(path.read_text())
    assert {"id", "title", "owner", "version", "effective"} <= meta.keys()
    assert path.read_text().count(f"# {meta['id']} ") == 1  # the id is in the title line too
    chunks = chunk_document(_doc(path))
    assert len({c.section_no for c in chunks}) >= 3
    assert all(c.section_no and re.fullmatch(r"\d{4}-\d{2}-\d{2}", c.updated) for c in chunks)
    assert all(len(c.text) <= MAX_CHARS for c in chunks)


@pytest.mark.parametrize("kind", ALERT_KINDS)
def test_each_alert_kind_has_its_own_sop_naming_it(kind):
    titled = [p for p in SOP_FILES if kind in split_front_matter(p.read_text())[0]["title"]]
    assert len(titled) == 1
    assert f"`{kind}`" in titled[0].read_text()


def test_supplier_sop_states_the_escalation_ladder_the_email_tool_implements():
    text = " ".join((SHIPPED_SOPS / "sop-07-supplier-communication.md").read_text().split())
    for phrase in [
        'Level 1 "Reminder"** (1-3 days late, or at risk): polite, sent to the supplier contact. '
        "Ask for a confirmed ship date within 2 business days.",
        'Level 2 "Escalation"** (4-7 days late, or any stock-out projected within 7 days): firm, '
        "sent to the supplier contact with our Purchasing Manager in cc. Request a recovery plan "
        "within 1 business day and state the stock impact.",
        'Level 3 "Executive escalation"** (more than 7 days late, or a stock-out projected within 3 days): '
        "sent to the supplier's account management, with our Head of Procurement in cc. Request "
        "expedited shipment at the supplier's cost per the supply agreement, and a response within 24 hours.",
        "the PO number; - the SKUs and quantities still outstanding; - the order date; - the promised date; "
        "- the number of days late",
        "Tone: factual, no blame, no threats.",
        "Drafts, including those produced by the planning assistant, are reviewed by the buyer before sending.",
    ]:
        assert phrase in text


def test_sections_split_at_the_dividing_heading_level_and_keep_subheadings_inside():
    text = "# Title\n\nintro line\n\n## 1. First\nUpdated: 2026-01-02\n\nalpha\n\n### Detail\nbeta\n\n## 2. Second\ngamma\n"
    sections = split_sections(text)
    assert [s.heading for s in sections] == ["", "1. First", "2. Second"]
    assert "### Detail" in "\n".join(sections[1].lines)


def test_plain_text_without_front_matter_takes_its_title_and_id_from_the_title_line(tmp_path):
    path = tmp_path / "returns.txt"
    path.write_text("# QA-12: Returns desk\n\n## Opening hours\nThe desk opens at 08:00.\n")
    doc = _doc(path)
    assert (doc.doc_id, doc.title, doc.kind) == ("QA-12", "Returns desk", "text")
    [chunk] = chunk_document(doc)
    assert (chunk.section, chunk.section_no, chunk.text) == (
        "Opening hours",
        "",
        "The desk opens at 08:00.",
    )


def test_a_long_section_is_split_at_paragraphs_under_the_size_limit(tmp_path):
    paragraphs = [f"Paragraph {i} " + "word " * 60 for i in range(12)]
    path = tmp_path / "long.md"
    path.write_text("# Long\n\n## 1. Only\n\n" + "\n\n".join(paragraphs))
    chunks = chunk_document(_doc(path))
    assert len(chunks) > 1 and all(len(c.text) <= MAX_CHARS for c in chunks)
    assert [c.part for c in chunks] == list(range(len(chunks)))
    assert " ".join(c.text for c in chunks).split() == " ".join(paragraphs).split()  # nothing lost


def test_binary_content_in_a_text_file_is_unreadable(tmp_path):
    path = tmp_path / "oops.txt"
    path.write_bytes(b"\x00\x01\x02 binary")
    with pytest.raises(UnreadableDocumentError, match="binary"):
        _doc(path)


def test_citation_names_document_and_section():
    passage = Passage(
        doc_id="SOP-07", title="Supplier communication", section="Escalation ladder", section_no="3",
        path="sop-07.md", text="...", score=0.9,
    )  # fmt: skip
    assert passage.citation == "SOP-07 Supplier communication §3 Escalation ladder"
    assert passage.short_citation == "SOP-07 §3"
    assert passage.model_dump()["citation"] == passage.citation
