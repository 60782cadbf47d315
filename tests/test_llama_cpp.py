"""The llama.cpp backend's pieces: the adapter conversion to llama.cpp's LoRA GGUF, the grammar
generated from the registry, and (slow; needs the optional llama-cpp-python) a real call."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.model.llama_cpp import _permute, convert_adapter, gbnf
from tools.registry import agent_tools

HEADS, KV_HEADS, HIDDEN, KV_DIM, RANK = 4, 2, 16, 8, 2


@pytest.fixture
def tiny_adapter(tmp_path):
    """A peft-style LoRA on one layer: q, k and down projections."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    prefix = "base_model.model.model.layers.0"
    tensors = {
        f"{prefix}.self_attn.q_proj.lora_A.weight": rng.normal(size=(RANK, HIDDEN)),
        f"{prefix}.self_attn.q_proj.lora_B.weight": rng.normal(size=(HIDDEN, RANK)),
        f"{prefix}.self_attn.k_proj.lora_A.weight": rng.normal(size=(RANK, HIDDEN)),
        f"{prefix}.self_attn.k_proj.lora_B.weight": rng.normal(size=(KV_DIM, RANK)),
        f"{prefix}.mlp.down_proj.lora_A.weight": rng.normal(size=(RANK, 32)),
        f"{prefix}.mlp.down_proj.lora_B.weight": rng.normal(size=(HIDDEN, RANK)),
    }
    save_file(
        {k: v.astype(np.float32) for k, v in tensors.items()},
        tmp_path / "adapter_model.safetensors",
    )
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "lora_alpha": 4, "r": RANK})
    )
    return tmp_path, tensors


def test_the_adapter_converts_to_llama_cpp_lora_gguf(tiny_adapter, tmp_path):
    from gguf import GGUFReader

    adapter, tensors = tiny_adapter
    out = convert_adapter(
        adapter,
        {"num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS},
        tmp_path / "a.gguf",
    )
    reader = GGUFReader(str(out))
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert fields["general.type"] == "adapter" and fields["adapter.type"] == "lora"
    assert fields["adapter.lora.alpha"] == 4.0
    written = {t.name: np.asarray(t.data) for t in reader.tensors}
    assert set(written) == {
        f"blk.0.{m}.weight.lora_{ab}" for m in ("attn_q", "attn_k", "ffn_down") for ab in "ab"
    }
    prefix = "base_model.model.model.layers.0"
    # the product B @ A is what llama.cpp adds: for q and k in its permuted row order
    for module, name, heads in (
        ("self_attn.q_proj", "attn_q", HEADS),
        ("self_attn.k_proj", "attn_k", KV_HEADS),
    ):
        a, b = (
            tensors[f"{prefix}.{module}.lora_A.weight"],
            tensors[f"{prefix}.{module}.lora_B.weight"],
        )
        product = written[f"blk.0.{name}.weight.lora_b"] @ written[f"blk.0.{name}.weight.lora_a"]
        assert np.allclose(product, _permute(b @ a, heads), atol=1e-5)
    down_b = tensors[f"{prefix}.mlp.down_proj.lora_B.weight"]
    assert np.allclose(written["blk.0.ffn_down.weight.lora_b"], down_b, atol=1e-6)  # not permuted


def test_a_dora_or_adalora_adapter_is_refused_by_name(tiny_adapter, tmp_path):
    adapter, _ = tiny_adapter
    (adapter / "adapter_config.json").write_text(
        json.dumps({"peft_type": "ADALORA", "lora_alpha": 4})
    )
    with pytest.raises(ValueError, match="is ADALORA, not a LoRA"):
        convert_adapter(adapter, {"num_attention_heads": HEADS}, tmp_path / "a.gguf")


def test_the_grammar_names_every_agent_tool_and_only_their_arguments():
    grammar = gbnf(agent_tools())
    for spec in agent_tools():
        assert f'"{spec.name}" " "' in grammar
    stockout = next(i for i, s in enumerate(agent_tools()) if s.name == "stockout_risk")
    keys = next(line for line in grammar.splitlines() if line.startswith(f"key{stockout} ::="))
    assert '"\\"horizon_days\\""' in keys and "sku" not in keys


@pytest.mark.slow
def test_llama_cpp_calls_the_right_tool_with_the_grammar():
    pytest.importorskip("llama_cpp")
    from assistant.model.llama_cpp import LlamaCppBackend
    from assistant.protocol import Turn

    specs = agent_tools()
    backend = LlamaCppBackend(specs, threads=2, grammar=True)
    reply = backend.respond([Turn("user", "which skus will stock out next week at berlin?")], specs)
    assert reply.parse_error is None
    assert [c.name for c in reply.calls] == ["stockout_risk"]
    assert reply.calls[0].arguments.get("horizon_days") == 7
    off_topic = backend.respond([Turn("user", "what's the weather tomorrow?")], specs)
    assert not off_topic.calls and off_topic.text


@pytest.mark.slow
def test_llama_cpp_decodes_under_the_torch_paths_constraints():
    pytest.importorskip("llama_cpp")
    from assistant.model.llama_cpp import LlamaCppBackend
    from assistant.protocol import Turn

    specs = agent_tools()
    backend = LlamaCppBackend(specs, threads=2)
    assert backend.chooses_tools  # the guard may ask it to choose again
    request = [Turn("user", "which skus will stock out next week at berlin?")]
    again = backend.respond(request, specs, choose_from=["forecast_demand", "reorder_plan"])
    assert [c.name for c in again.calls] in (["forecast_demand"], ["reorder_plan"])
    assert again.stats.get("schema_steered_tokens", 0) > 0
    # a request it refuses, asked again with a call required (the guard's second try)
    refused = [Turn("user", "what's the weather tomorrow?")]
    assert not backend.respond(refused, specs).calls
    forced = backend.respond(refused, specs, choose_from=["briefing"], must_call=True)
    assert [c.name for c in forced.calls] == ["briefing"]


@pytest.mark.slow
def test_llama_cpp_stops_at_the_next_token_once_the_request_is_cancelled():
    pytest.importorskip("llama_cpp")
    from assistant import limits
    from assistant.model.llama_cpp import LlamaCppBackend
    from assistant.protocol import Turn

    specs = agent_tools()
    backend = LlamaCppBackend(specs, threads=2)
    request = [Turn("user", "which skus will stock out next week at berlin?")]
    budget = limits.RequestBudget()
    budget.cancel("client gone")
    with limits.running(budget):
        cut = backend.respond(request, specs)
    assert cut.stats["completion_tokens"] <= 3  # one token, then the check
    assert backend.respond(request, specs).calls  # the model is free for the next request
