"""The in-process backend with a tiny random llama and the real SmolLM2 tokenizer: KV-cache reuse,
streaming, and tool calls through the LangChain chat model. The slow test runs the real model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from langchain_core.messages import AIMessage, HumanMessage

from assistant.model.backends import LocalBackend, protocol_prompt
from assistant.model.chat_model import StockpilotChatModel
from assistant.model.loader import LoadedModel
from assistant.protocol import Turn
from tools.registry import agent_tools

CACHED_MODEL = Path(".cache/models/SmolLM2-135M-Instruct")
PROMPT_TURNS = [Turn("user", "which skus stock out next week in Hamburg?")]


@pytest.fixture(scope="module")
def tiny() -> LoadedModel:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if not (CACHED_MODEL / "tokenizer.json").exists():
        pytest.skip("no cached SmolLM2 folder (run the slow tests once to materialise it)")
    tokenizer = AutoTokenizer.from_pretrained(CACHED_MODEL)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
    )
    return LoadedModel(LlamaForCausalLM(config).eval(), tokenizer, "tiny-llama")


@pytest.fixture(scope="module")
def backend(tiny) -> LocalBackend:
    return LocalBackend(tiny, agent_tools(), max_new_tokens=16)


def test_reusing_the_system_prompt_cache_gives_the_same_greedy_tokens(backend, monkeypatch):
    generator = backend.generator
    prompt = protocol_prompt(PROMPT_TURNS, agent_tools())
    ids = generator.tokenizer(prompt, return_tensors="pt").input_ids
    assert generator._cache_for(ids) is not None  # the prompt starts with the cached prefix

    with_cache = generator.complete(prompt, 16)
    again = generator.complete(prompt, 16)  # the stored prefix cache was not consumed
    monkeypatch.setattr(generator, "_cache_for", lambda ids: None)
    without_cache = generator.complete(prompt, 16)

    assert with_cache == again == without_cache
    assert with_cache[1] == {"prompt_tokens": ids.shape[1], "completion_tokens": 16}


def test_streaming_yields_the_same_text_as_a_plain_completion(backend):
    prompt = protocol_prompt(PROMPT_TURNS, agent_tools())
    pieces: list[str] = []

    streamed, _ = backend.generator.complete(prompt, 16, pieces.append)
    plain, _ = backend.generator.complete(prompt, 16)

    assert streamed == plain == "".join(pieces) and len(pieces) > 3


class FakeGenerator:
    """Stands in for LocalGenerator: 'generates' a fixed text in small pieces."""

    def __init__(self, text: str, piece_chars: int = 3):
        self.text, self.piece_chars, self.prompts = text, piece_chars, []

    def complete(
        self,
        prompt,
        max_new_tokens=256,
        on_token=None,
        copy_sources=None,
        specs=None,
        must_call=False,
    ):
        self.prompts.append(prompt)
        for at in range(0, len(self.text), self.piece_chars):
            if on_token:
                on_token(self.text[at : at + self.piece_chars])
        return self.text, {"prompt_tokens": 50, "completion_tokens": 7}


def chat_model(backend: LocalBackend, text: str) -> StockpilotChatModel:
    backend.generator = FakeGenerator(text)
    return StockpilotChatModel(backend=backend)


@pytest.fixture
def fresh_backend(tiny) -> LocalBackend:
    return LocalBackend(tiny, agent_tools(), max_new_tokens=16)


def test_a_generated_call_becomes_an_ai_message_tool_call(fresh_backend):
    message = chat_model(fresh_backend, '<tool_call>x {"a": 1}</tool_call>').invoke(
        [HumanMessage("hi")]
    )

    assert isinstance(message, AIMessage) and message.content == ""
    assert [(c["name"], c["args"], c["type"]) for c in message.tool_calls] == [
        ("x", {"a": 1}, "tool_call")
    ]
    assert message.usage_metadata["input_tokens"] == 50
    assert fresh_backend.generator.prompts[0].endswith(
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_streaming_hides_call_markup_but_keeps_the_call(fresh_backend):
    text = 'Let me check <stock>. <tool_call>forecast_demand {"sku": "SKU-00042"}</tool_call>'
    model = chat_model(fresh_backend, text)

    chunks = list(model.stream([HumanMessage("forecast SKU-00042")]))
    merged = sum(chunks[1:], chunks[0])

    streamed = "".join(c.content for c in chunks)
    assert streamed == "Let me check <stock>. "  # a '<' that is not a call is shown once decided
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("forecast_demand", {"sku": "SKU-00042"})
    ]


def test_streaming_a_plain_answer_passes_every_character(fresh_backend):
    chunks = list(chat_model(fresh_backend, "Nothing stocks out <").stream([HumanMessage("q")]))
    assert "".join(c.content for c in chunks) == "Nothing stocks out <"  # held-back tail is flushed


def test_an_unreadable_call_is_an_invalid_tool_call_with_the_error(fresh_backend):
    message = chat_model(fresh_backend, '<tool_call>x {"a": }</tool_call>').invoke(
        [HumanMessage("hi")]
    )

    assert message.tool_calls == [] and message.content == ""
    assert "not valid JSON" in message.invalid_tool_calls[0]["error"]
    assert message.response_metadata["raw_text"] == '<tool_call>x {"a": }</tool_call>'


@pytest.mark.slow
def test_the_real_embedded_model_answers_end_to_end_and_unsupported_figures_are_marked():
    import time

    from assistant.agent import Assistant, build_chat_model
    from assistant.grounding import MARK, check
    from assistant.settings import Settings
    from tools.registry import ToolContext

    started = time.perf_counter()
    settings = Settings(
        model_source="embedded", adapter_path="shipped", max_new_tokens=48, threads=2
    )
    assistant = Assistant(build_chat_model(settings), ToolContext(store=None))

    question = "Which SKUs are likely to stock out next week?"
    reply = assistant.ask(question, "slow")

    assert reply.text.strip()
    # every figure the model wrote that no tool returned is listed and marked in place
    sources = (
        [question]
        + [r.render() for r in reply.tool_runs]
        + [str(r.arguments) for r in reply.tool_runs]
    )
    assert reply.grounding.unsupported == check(reply.raw_text, sources).unsupported
    for token in reply.grounding.unsupported:
        assert f"{token}{MARK}" in reply.text
    assert time.perf_counter() - started < 60
