"""The OpenAI-compatible API, driven by the official ``openai`` client against a real uvicorn
server in a background thread, with a deterministic model behind the Assistant."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import openai
import pytest
import uvicorn
from fake_assistant import StockBot, make_assistant

from assistant.api import create_app
from assistant.grounding import MARK
from assistant.settings import Settings

pytestmark = pytest.mark.usefixtures("test_tools")
KEY = "sk-test-stockpilot"
QUESTION = "How many SKU-00042 do we have?"
EVIDENCE = (
    "> source: `test_stock_level(sku='SKU-00042')`\n\n"
    "| sku       |   on_hand |   reserved |\n"
    "|:----------|----------:|-----------:|\n"
    "| SKU-00042 |       120 |         15 |"
)


@pytest.fixture(scope="module")
def server():
    bot = StockBot()
    app = create_app(make_assistant(bot), Settings(api_key=KEY))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}/v1", bot=bot)
    uv.should_exit = True
    thread.join(10)


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, timeout=30)


def test_chat_completion_has_the_official_shape_the_answer_and_its_evidence(client):
    response = client.chat.completions.create(
        model="stockpilot", messages=[{"role": "user", "content": QUESTION}]
    )

    assert response.object == "chat.completion" and response.model == "stockpilot"
    assert response.id.startswith("chatcmpl-") and response.created > 1_700_000_000
    choice = response.choices[0]
    assert (choice.index, choice.finish_reason, choice.message.role) == (0, "stop", "assistant")
    assert choice.message.content == f"SKU-00042 has 120 units on hand.\n\n{EVIDENCE}"
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (
        200,
        200 + response.usage.completion_tokens,
    )
    trace = response.model_extra["stockpilot"]
    assert [(c["name"], c["arguments"], c["ok"]) for c in trace["tool_calls"]] == [
        ("test_stock_level", {"sku": "SKU-00042"}, True)
    ]
    assert trace["unsupported"] == []


def test_unsupported_figures_are_marked_in_the_content(client):
    response = client.chat.completions.create(
        model="stockpilot",
        messages=[{"role": "user", "content": "guess how many SKU-00042 we will have"}],
    )
    content = response.choices[0].message.content
    assert content.startswith(
        f"SKU-00042 has 120 units on hand. About 35{MARK} more arrive on 2026-12-09{MARK}."
    )
    assert response.model_extra["stockpilot"]["unsupported"] == ["35", "2026-12-09"]


def test_streaming_sends_tokens_then_evidence_then_stop_and_usage(client):
    stream = client.chat.completions.create(
        model="any-name-works",
        messages=[{"role": "user", "content": "guess how many SKU-00042 we will have"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert all(c.object == "chat.completion.chunk" and c.model == "stockpilot" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == (
        "SKU-00042 has 120 units on hand. About 35 more arrive on 2026-12-09.\n\n"
        f"Unverified (not in any tool result): 35, 2026-12-09\n\n{EVIDENCE}"
    )
    token_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(token_chunks) > 5  # streamed piece by piece, not in one block
    events = [
        c.model_extra["stockpilot"]["event"]
        for c in chunks
        if "event" in (c.model_extra.get("stockpilot") or {})
    ]
    assert events == ["queued", "started", "tool_start", "tool_end"]
    finished = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finished] == ["stop"]
    assert (
        finished[0]
        .model_extra["stockpilot"]["content"]
        .startswith(f"SKU-00042 has 120 units on hand. About 35{MARK}")
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 200


def test_a_follow_up_continues_the_conversation_with_its_tool_results(client, server):
    first = client.chat.completions.create(
        model="stockpilot", messages=[{"role": "user", "content": QUESTION}]
    )
    history = [
        {
            "role": "system",
            "content": "You are a helpful assistant.",
        },  # ignored: the protocol has its own
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "and how many are reserved?"}]},
    ]
    follow_up = client.chat.completions.create(model="stockpilot", messages=history)

    assert follow_up.choices[0].message.content == "15 of them are reserved."
    assert follow_up.model_extra["stockpilot"]["unsupported"] == []
    assert [t.role for t in server.bot.turns[-1]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]


def test_an_unknown_history_is_rebuilt_from_its_text_without_evidence_or_marks(client, server):
    edited = f"SKU-00042 has 119{MARK} units on hand.\n\n{EVIDENCE}"
    messages = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": edited},
        {"role": "user", "content": "and how many are reserved?"},
    ]
    response = client.chat.completions.create(model="stockpilot", messages=messages)

    turns = server.bot.turns[-1]
    assert [(t.role, t.content) for t in turns] == [
        ("user", QUESTION),
        ("assistant", "SKU-00042 has 119 units on hand."),
        ("user", "and how many are reserved?"),
    ]
    assert response.choices[0].message.content == "Which SKU do you mean?"


def test_models_lists_stockpilot(client):
    assert [m.id for m in client.models.list()] == ["stockpilot"]
    assert client.models.retrieve("stockpilot").owned_by == "stockpilot"


@pytest.mark.parametrize("key", ["wrong-key", ""])
def test_a_wrong_or_missing_key_is_rejected_with_401(server, key):
    bad = openai.OpenAI(base_url=server.url, api_key=key or "x", max_retries=0, timeout=30)
    if not key:
        bad = bad.with_options(default_headers={"Authorization": ""})
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.chat.completions.create(
            model="stockpilot", messages=[{"role": "user", "content": QUESTION}]
        )
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_a_conversation_that_does_not_end_with_a_question_is_a_400(client):
    with pytest.raises(
        openai.BadRequestError, match="last user/assistant message must be a non-empty user message"
    ):
        client.chat.completions.create(
            model="stockpilot", messages=[{"role": "assistant", "content": "hi"}]
        )
