"""The API under disconnects, deadlines, a full queue, oversize or malformed input, missing
keys and markup in data, against a real uvicorn server with a fake slow model that honours the
cancellation contract of assistant.limits (as the in-process model does)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from types import SimpleNamespace

import httpx
import pandas as pd
import pytest
import uvicorn
from fake_assistant import TEST_TOOLS, Recording, ScriptedBackend, make_assistant

from assistant import limits
from assistant.api import ConfigurationError, create_app
from assistant.model.backends import parsed
from assistant.settings import Settings
from tools.registry import Request, ToolContext, ToolResult, tool

pytestmark = pytest.mark.usefixtures("test_tools")
KEY = "sk-test-reliability"
AUTH = {"Authorization": f"Bearer {KEY}"}
SLOW = "tell me a long story"


class SlowBackend(Recording):
    """Writes 200 words, 20 ms apart, unless the request is cancelled; 'quick' is answered at once."""

    def __init__(self):
        super().__init__()
        self.generating = threading.Event()
        self.stopped_at: float | None = None
        self.words = 0

    def respond(self, turns, specs, on_token=None):
        self.record(turns, specs)
        if "quick" in turns[-1].content:
            if on_token:
                on_token("ok.")
            return parsed("ok.", {"prompt_tokens": 1, "completion_tokens": 1})
        stopped = limits.stop_check()  # once per generation, as LocalGenerator does
        self.generating.set()
        self.words, text = 0, ""
        for i in range(200):
            if stopped():
                self.stopped_at = time.monotonic()
                break
            time.sleep(0.02)
            text += f"w{i} "
            self.words += 1
            if on_token:
                on_token(f"w{i} ")
        return parsed(text, {"prompt_tokens": 1, "completion_tokens": self.words})


def serve(app) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture
def slow_api():
    backend = SlowBackend()
    app = create_app(make_assistant(backend), Settings(api_key=KEY), queue_size=1, deadline_s=30)
    url, server, thread = serve(app)
    yield SimpleNamespace(url=url, backend=backend, app=app)
    server.should_exit = True
    thread.join(10)


def ask(url: str, question: str, stream: bool = False, **extra) -> httpx.Response:
    body = {"model": "stockpilot", "messages": [{"role": "user", "content": question}], **extra}
    return httpx.post(
        f"{url}/v1/chat/completions", json={**body, "stream": stream}, headers=AUTH, timeout=30
    )


def sse_events(lines) -> list[dict]:
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


def test_a_disconnected_stream_frees_the_model_within_a_second_and_the_next_request_is_answered(
    slow_api,
):
    body = {"messages": [{"role": "user", "content": SLOW}], "stream": True}
    with httpx.stream(
        "POST", f"{slow_api.url}/v1/chat/completions", json=body, headers=AUTH, timeout=30
    ) as response:
        tokens = 0
        for line in response.iter_lines():
            if '"content": "w' in line:
                tokens += 1
            if tokens == 3:
                break
    left = time.monotonic()  # the connection is closed when the block ends

    answer = ask(slow_api.url, "quick question")

    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "ok."
    assert slow_api.backend.stopped_at is not None, "the generation ran to its end"
    assert slow_api.backend.stopped_at - left < 1.0
    assert slow_api.backend.words < 100


def test_a_full_queue_is_a_429_with_retry_after_and_streams_see_their_position(slow_api):
    first = threading.Thread(target=ask, args=(slow_api.url, SLOW))
    first.start()  # runs
    assert slow_api.backend.generating.wait(10)
    waiting: list[dict] = []

    def second():  # waits in the queue (size 1), streaming
        body = {"messages": [{"role": "user", "content": "quick one"}], "stream": True}
        with httpx.stream(
            "POST", f"{slow_api.url}/v1/chat/completions", json=body, headers=AUTH, timeout=30
        ) as response:
            waiting.extend(sse_events(response.iter_lines()))

    queued = threading.Thread(target=second)
    queued.start()
    deadline = time.monotonic() + 10
    while not slow_api.app.state.worker.pending:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    refused = ask(slow_api.url, "quick three")
    first.join(30)
    queued.join(30)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "queue_full"
    events = [e["stockpilot"] for e in waiting if "event" in (e.get("stockpilot") or {})]
    assert events[0] == {"event": "queued", "position": 1}
    assert events[1]["event"] == "started" and events[1]["queue_wait_s"] > 0
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in waiting if e["choices"]) == "ok."  # fmt: skip


def test_a_request_past_its_deadline_stops_the_model_and_says_so():
    backend = SlowBackend()
    app = create_app(make_assistant(backend), Settings(api_key=KEY), deadline_s=0.5)
    url, server, thread = serve(app)
    try:
        response = ask(url, SLOW)
        streamed = ask(url, SLOW, stream=True)
    finally:
        server.should_exit = True
        thread.join(10)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert backend.words < 100
    errors = [e for e in sse_events(streamed.text.splitlines()) if "error" in e]
    assert [e["error"]["code"] for e in errors] == ["deadline_exceeded"]
    assert streamed.text.endswith("data: [DONE]\n\n")


@pytest.fixture(scope="module")
def quick_api():
    app = create_app(make_assistant(ScriptedBackend("fine.")), Settings(api_key=KEY))
    url, server, thread = serve(app)
    yield SimpleNamespace(url=url, app=app)
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize(
    "messages, param",
    [
        ([{"role": "user", "content": "x" * 1_000_000}], "messages[0].content"),
        ([{"role": "user", "content": "x" * 5_000}], "messages"),
        ([{"role": "user", "content": "é" * 1_500}], "messages"),
        ([{"role": "user", "content": "hi"}] * 51, "messages"),
        (
            [{"role": "user", "content": [{"type": "text", "text": None}]}],
            "messages[0].content[0].text",
        ),  # fmt: skip
        (
            [{"role": "user", "content": [{"type": "text", "text": 5}]}],
            "messages[0].content[0].text",
        ),  # fmt: skip
        ([{"role": "user", "content": {"text": "hi"}}], None),
        ([{"role": "user", "content": "a\x00b"}], "messages"),
        ([], None),
    ],
)
def test_oversize_and_malformed_input_is_a_400_in_openai_error_shape(quick_api, messages, param):
    response = httpx.post(
        f"{quick_api.url}/v1/chat/completions",
        json={"model": "stockpilot", "messages": messages},
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    if param:
        assert error["param"] == param


def test_a_body_that_is_not_json_is_a_400(quick_api):
    response = httpx.post(
        f"{quick_api.url}/v1/chat/completions", content=b"{not json", headers=AUTH, timeout=30
    )
    assert response.status_code == 400 and response.json()["error"]["message"]


def test_every_route_but_health_needs_the_key(quick_api):
    paths = {route.path for route in quick_api.app.routes} | {"/no-such-route"}
    assert {"/docs", "/redoc", "/openapi.json", "/v1/models", "/v1/chat/completions"} <= paths
    for path in sorted(paths - {"/health"}):
        path = path.replace("{model_id}", "stockpilot")
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            response = httpx.get(f"{quick_api.url}{path}", headers=headers, timeout=30)
            assert response.status_code == 401, path
            assert response.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(f"{quick_api.url}/health", timeout=30).status_code == 200
    assert httpx.get(f"{quick_api.url}/docs", headers=AUTH, timeout=30).status_code == 200


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_is_a_configuration_error(key):
    with pytest.raises(ConfigurationError, match="set but empty"):
        create_app(make_assistant(ScriptedBackend("x")), Settings(api_key=key))


# -- data-borne markup ----------------------------------------------------------------------

EVIL_NAME = "<img src=x onerror=alert(1)> [click here](http://evil.example) | `x`"


class NamedRequest(Request):
    pass


class NamedProduct(ToolResult):
    def render(self) -> str:
        return json.dumps({"name": EVIL_NAME})

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"sku": "SKU-00001", "name": EVIL_NAME, "units": 3}])

    def deliverable(self) -> str:
        return "To: a@b.de\nSubject: hi\n\n```\nclosing the fence\n```\n<script>x</script>"


@tool("test_named_product", "a product with markup in its name", NamedRequest, agent=False, registry=TEST_TOOLS)  # fmt: skip
def named_product(ctx: ToolContext, req: NamedRequest) -> NamedProduct:
    return NamedProduct()


def test_markup_from_data_is_escaped_in_api_answers():
    call, answer = "<tool_call>test_named_product {}</tool_call>", f"The product is {EVIL_NAME}."
    backend = ScriptedBackend(call, answer, call, answer)
    app = create_app(make_assistant(backend), Settings(api_key=KEY))
    url, server, thread = serve(app)
    try:
        content = ask(url, "show the product")
        streamed = ask(url, "show the product", stream=True)
    finally:
        server.should_exit = True
        thread.join(10)
    text = content.json()["choices"][0]["message"]["content"]
    streamed_text = "".join(
        e["choices"][0]["delta"].get("content") or ""
        for e in sse_events(streamed.text.splitlines())
        if e.get("choices")
    )
    for shown in (text, streamed_text):
        answer, draft, evidence = shown.split("````")  # the draft: literal, in a fence of 4
        for markdown in (answer, evidence):
            data = re.sub(r"> source: `\w+\(\)`", "", markdown)  # our own code span
            assert not re.search(r"(?<!\\)[<\[`]", data)
        assert draft.startswith("text\nTo: a@b.de") and "<script>x</script>" in draft
        assert "\\<img src=x onerror=alert(1)\\> \\[click here\\](http://evil.example)" in shown
        assert "| \\<img" in shown and "\\| \\`x\\` |" in shown  # one cell, pipes escaped


def test_the_local_model_stops_at_the_next_token_when_its_request_is_cancelled():
    from pathlib import Path

    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from assistant.model.loader import LoadedModel
    from assistant.model.local import LocalGenerator

    folder = Path(".cache/models/SmolLM2-135M-Instruct")
    if not (folder / "tokenizer.json").exists():
        pytest.skip("no cached SmolLM2 folder (run the slow tests once to materialise it)")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
    )
    model = LlamaForCausalLM(config).eval()
    generator = LocalGenerator(LoadedModel(model, tokenizer, "tiny"), "<|im_start|>system\nx")
    budget = limits.RequestBudget()
    pieces: list[str] = []

    def on_token(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            budget.cancel("client disconnected")

    with limits.running(budget):
        _, stats = generator.complete("<|im_start|>user\nhello", 200, on_token)
    _, full = generator.complete("<|im_start|>user\nhello", 40)  # no request: runs to the end
    assert stats["completion_tokens"] < 20
    assert full["completion_tokens"] == 40


SERVER = """
import sys
sys.path.insert(0, "tests")
from fake_assistant import TEST_TOOLS, make_assistant
from test_reliability_api import KEY, SlowBackend
from assistant.api import create_app, run_server
from assistant.settings import Settings
from tools.registry import REGISTRY, load_tools

load_tools()
REGISTRY.update(TEST_TOOLS)
run_server(create_app(make_assistant(SlowBackend()), Settings(api_key=KEY)), "127.0.0.1", int(sys.argv[1]))
"""


@pytest.mark.slow  # starts a server process (imports the whole stack: 20-60 s here)
def test_sigterm_mid_stream_ends_the_stream_with_an_error_and_the_server_exits():
    import signal
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        body = {"messages": [{"role": "user", "content": SLOW}], "stream": True}
        lines = []
        with httpx.stream(
            "POST", f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=30
        ) as response:
            for line in response.iter_lines():
                lines.append(line)
                if '"content": "w2 "' in line:
                    server.send_signal(signal.SIGTERM)
        code = server.wait(15)  # exits; before, it stayed in "Waiting for background tasks"
    finally:
        if server.poll() is None:
            server.kill()
    errors = [e["error"] for e in sse_events(lines) if "error" in e]
    assert [e["code"] for e in errors] == ["shutting_down"]
    assert [line for line in lines if line][-1] == "data: [DONE]"
    assert code in (0, -signal.SIGTERM)
