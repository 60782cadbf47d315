"""Copy-constrained decoding: names in tool calls stay verbatim spans of the conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant.model.copy_constraint import CopySpans, copies, copy_sources
from assistant.protocol import Call, Turn

CACHED_MODEL = Path(".cache/models/SmolLM2-135M-Instruct")
TURNS = [
    Turn("user", "stockouts at munich dc"),
    Turn("assistant", calls=[Call("stockout_risk", {"location": "munich dc"})]),
    Turn("tool", "3 SKUs at risk; lowest cover at HAMBURG DC", tool_name="stockout_risk"),
    Turn("user", "what is evergreen logistics inc late on"),
]


def test_names_and_queries_are_spans_of_the_conversation():
    sources = copy_sources(TURNS)
    call = '<tool_call>supplier_orders {"status": "late", "supplier": "'
    assert copies(call + 'evergreen logistics inc"}', sources)
    assert copies(call + "evergreen log", sources)  # unfinished, still a span
    assert not copies(call + "evanandead logistics inc", sources)
    assert not copies(call + 'evergreen logis"', sources)  # closed inside a word
    assert not copies(call + "green", sources)  # starts inside a word
    assert copies('<tool_call>plan_routes {"location": "HAMBURG DC"', sources)  # a tool result
    assert not copies('<tool_call>search_sops {"query": "advised_search"', sources)
    assert copies('<tool_call>list_alerts {"kind": "anything"', sources)  # not a name
    assert copies('<tool_call>x {"supplier": "made up"}</tool_call> and text', sources)  # closed

    # Codes too: the PO an alert names is not cut short ("PO-1" from "PO-1626").
    alert = [Turn("tool", "A-1 critical supplier_delay: PO-1626 from SUP-002", tool_name="x")]
    sources = copy_sources(alert)
    po = '<tool_call>draft_supplier_email {"po_number": "PO-1'
    assert copies(po, sources) and copies(po + '626"', sources)
    assert not copies(po + '"', sources)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    if not (CACHED_MODEL / "tokenizer.json").exists():
        pytest.skip("no cached SmolLM2 folder (run the slow tests once to materialise it)")
    return AutoTokenizer.from_pretrained(CACHED_MODEL)


def _step(tokenizer, written: str, ranked: list[str]):
    """Run the processor once after ``written``, with ``ranked`` tokens the likeliest first."""
    ids = tokenizer(written, return_tensors="pt").input_ids
    scores = torch.zeros(1, len(tokenizer))
    tokens = [tokenizer(piece, add_special_tokens=False).input_ids for piece in ranked]
    assert all(len(t) == 1 for t in tokens), "each ranked piece must be one token"
    for rank, (token,) in enumerate(tokens):
        scores[0, token] = 10.0 - rank
    steer = CopySpans(tokenizer, 0, copy_sources(TURNS))
    out = steer(ids, scores.clone())
    return tokenizer.decode([int(out[0].argmax())]), out, scores, steer


def test_the_likeliest_token_that_keeps_copying_wins(tokenizer):
    written = '<tool_call>supplier_orders {"status": "late", "supplier": "ever'
    chosen, out, _, steer = _step(tokenizer, written, ["thing", "green"])
    assert chosen == "green" and steer.steered == 1
    assert torch.isinf(out).sum() == out.shape[1] - 1  # only the chosen token is left


def test_the_models_choice_stands_when_it_copies_or_nothing_likely_does(tokenizer):
    written = '<tool_call>supplier_orders {"status": "late", "supplier": "ever'
    chosen, out, scores, steer = _step(tokenizer, written, ["green", "thing"])
    assert chosen == "green" and torch.equal(out, scores) and steer.steered == 0
    chosen, out, scores, _ = _step(tokenizer, written, ["thing", "body"])
    assert chosen == "thing" and torch.equal(out, scores)  # no likely copy: left to the tool
    chosen, out, scores, _ = _step(tokenizer, "The late orders are ever", ["thing", "green"])
    assert chosen == "thing" and torch.equal(out, scores)  # free text is not constrained
    # A value that does not start as a copy is the model's (and then the guard's) business.
    started = '<tool_call>stockout_risk {"location": "'
    chosen, out, scores, _ = _step(tokenizer, started + "All", ["thing", "green"])
    assert chosen == "thing" and torch.equal(out, scores)
    chosen, out, scores, _ = _step(tokenizer, started, ["thing", "mun"])
    assert chosen == "thing" and torch.equal(out, scores)


class Recorder:
    """Stands in for the local generator: records the copy sources it is given."""

    def __init__(self):
        self.sources = []

    def complete(self, prompt, max_new_tokens, on_token, copy_sources, specs=None, must_call=False):
        self.sources.append(copy_sources)
        return "", {}


def test_the_local_backend_copies_names_unless_told_not_to():
    from assistant.model.backends import LocalBackend

    backend = LocalBackend.__new__(LocalBackend)  # no model: only the wiring is under test
    backend.max_new_tokens, backend.generator = 8, Recorder()
    for backend.copy_names in (True, False):
        backend.respond(TURNS, [])
    copied, plain = backend.generator.sources
    assert "evergreen logistics inc" in copied["supplier"] and plain is None


def test_schema_choices_keep_tool_names_and_fixed_values_to_the_registry():
    from assistant.model.schema_constraint import SchemaChoices
    from tools.registry import agent_tools

    schema = SchemaChoices(None, 0, agent_tools())
    assert schema.allowed("<tool_call>forec")
    assert schema.allowed('<tool_call>forecast_demand {"sku": "SKU-1"')
    assert not schema.allowed("<tool_call>forecast ")  # no tool of that name
    assert not schema.allowed("<tool_call>alert_e")
    assert schema.allowed('<tool_call>list_alerts {"severity": "crit')
    assert not schema.allowed('<tool_call>list_alerts {"severity": "critical_d')
    assert schema.allowed("Sorry, I can only help with supply chain questions.")
