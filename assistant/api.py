"""OpenAI-compatible HTTP API over the Assistant (`stockpilot api`): any OpenAI client can chat
with Stockpilot through ``POST /v1/chat/completions`` (plain or SSE streaming) and ``GET /v1/models``.

Serving: the model is a CPU model that runs one generation at a time per process, so the API
serves it that way on purpose. One worker thread runs requests one at a time from a bounded
queue (``ModelWorker``). A request that finds the queue full gets a 429 with ``Retry-After``;
a streaming client sees its queue position (``stockpilot.event = "queued"`` chunks). Every
request has a deadline. A client that disconnects, or a deadline that passes, cancels its
request: it leaves the queue, or the model stops at its next token (``assistant.limits``), and
the worker takes the next one. No HTTP handler ever holds the model: the handlers only wait on
the request's event queue, so an abandoned stream cannot freeze the API. SIGTERM cancels
everything and the server exits. More throughput comes from more processes, or from a model
server behind ``model_source = "openai-completions"`` (README, Configuration: scaling out).

Input is bounded (``assistant.limits``, the same limits as the UI and CLI): too many messages,
too long a message or question, or malformed content is a 400 in OpenAI's error shape.
With ``api_key`` set, every route but ``/health`` needs the key (``/docs`` and
``/openapi.json`` too); an empty key is a configuration error, not "no auth".

Sessions: like OpenAI's API, this one is stateless: the request's messages are the conversation.
The last user message is the question; the earlier user/assistant messages are the memory. So that
the model keeps seeing its earlier tool results (as it does in the CLI and in training), each
answered conversation is remembered under a hash of its messages; a request whose earlier messages
hash to a remembered conversation continues from it, tool turns included. Otherwise (server
restart, edited or foreign history) the earlier turns are rebuilt from their text alone. Client
system prompts and client-side tools are ignored: the model only speaks its own protocol and
the registry's tools.

Response content is Markdown: the grounded answer (unsupported items marked) followed by
deliverables and each tool's table as evidence, with everything that came from data escaped
(``assistant.safe_text``). The tool trace is in a non-standard ``stockpilot`` field, which
OpenAI clients ignore.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field

from assistant import limits
from assistant.agent import Assistant, AssistantReply
from assistant.grounding import MARK
from assistant.safe_text import (
    UNVERIFIED,
    escape_markdown,
    evidence_markdown,
    reply_markdown,
    unescape_markdown,
    unverified_line,
)
from assistant.settings import Settings

MODEL_ID = "stockpilot"
REMEMBERED_CONVERSATIONS = 256
QUEUE_SIZE = 8  # waiting requests; with ~5-20 s per answer on a CPU, more only adds waiting
DEADLINE_S = limits.DEFAULT_DEADLINE_S
KEEPALIVE_S = 5.0  # an SSE comment while a request waits, so proxies keep the stream open
# Where the evidence starts in an earlier answer that a client sends back.
_EVIDENCE = re.compile(r"\n\n(?:`{3,}text\n|> source: `|> tool `|" + re.escape(UNVERIFIED) + ")")


class ConfigurationError(ValueError):
    """Settings the API refuses to start with; the message says which and what to do."""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used

    role: str
    content: str | list[dict] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, tools...: accepted, ignored

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict | None = None
    user: str | None = None


class APIError(Exception):
    """Answered in OpenAI's error shape, which the official clients turn into typed exceptions."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = (
            status,
            message,
            kind,
            code,
            param,
        )
        self.headers = headers or {}

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


class ConversationMemory:
    """Finished conversations (all messages, tool turns included) by a hash of their text."""

    def __init__(self, size: int = REMEMBERED_CONVERSATIONS):
        self.size, self.items = size, OrderedDict()
        self.lock = threading.Lock()

    @staticmethod
    def key(turns: Sequence[tuple[str, str]]) -> str:
        text = json.dumps([(role, content.strip()) for role, content in turns], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, turns: Sequence[tuple[str, str]]) -> list[BaseMessage] | None:
        with self.lock:
            key = self.key(turns)
            if key in self.items:
                self.items.move_to_end(key)
            return self.items.get(key)

    def put(self, turns: Sequence[tuple[str, str]], messages: list[BaseMessage]) -> None:
        with self.lock:
            self.items[self.key(turns)] = messages
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def message_text(message: ChatMessage, index: int) -> str:
    """A message's text; content parts must carry text as a string (``text: null`` is a 400)."""
    where = f"messages[{index}].content"
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for j, part in enumerate(message.content):
        if part.get("type") != "text":
            continue  # images, audio...: the model reads text only
        text = part.get("text")
        if not isinstance(text, str):
            raise APIError(
                400,
                f"{where}[{j}].text: expected a string, got {type(text).__name__}",
                param=f"{where}[{j}].text",
            )
        texts.append(text)
    return "".join(texts)


def conversation(request: ChatRequest) -> tuple[list[tuple[str, str]], str]:
    """(earlier user/assistant turns, question) from the request's messages, within the limits."""
    if len(request.messages) > limits.MAX_MESSAGES:
        raise APIError(
            400,
            f"messages: {len(request.messages)} messages; the limit is {limits.MAX_MESSAGES}",
            param="messages",
        )
    turns = []
    for i, message in enumerate(request.messages):
        text = message_text(message, i)
        if len(text) > limits.MAX_MESSAGE_CHARS:
            raise APIError(
                400,
                f"messages[{i}].content: {len(text):,} characters; the limit is "
                f"{limits.MAX_MESSAGE_CHARS:,}",
                param=f"messages[{i}].content",
            )
        if message.role in {"user", "assistant"}:
            turns.append((message.role, text))
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise APIError(
            400,
            "messages: the last user/assistant message must be a non-empty user message",
            param="messages",
        )
    try:
        limits.check_request(turns[-1][1], turns[:-1])
    except limits.RequestLimitError as error:
        raise APIError(400, f"{error.param}: {error}", param=error.param) from None
    return turns[:-1], turns[-1][1]


def rebuild(turns: Sequence[tuple[str, str]]) -> list[BaseMessage]:
    """Earlier turns from text only: answers without their evidence and marks, as the model wrote them."""
    messages: list[BaseMessage] = []
    for role, content in turns:
        if role == "user":
            messages.append(HumanMessage(content))
        else:
            answer = _EVIDENCE.split(content, maxsplit=1)[0].replace(MARK, "")
            messages.append(AIMessage(unescape_markdown(answer).strip()))
    return messages


def usage(reply: AssistantReply) -> dict:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def _tool_event(run) -> dict:
    return {
        "name": run.name,
        "arguments": run.arguments,
        "ok": run.ok,
        "error": run.error,
        "seconds": round(run.seconds, 3),
    }


# -- one model, one worker, a bounded queue -------------------------------------------------


class ChatService:
    """Runs one request through the Assistant (the worker calls it one request at a time)."""

    def __init__(self, assistant: Assistant):
        self.assistant, self.memory = assistant, ConversationMemory()

    def events(self, earlier: list[tuple[str, str]], question: str) -> Iterator[tuple[str, object]]:
        """Assistant events for this conversation, then ``("history", messages)`` to pass to
        ``remember`` with the content actually sent."""
        history = self.memory.get(earlier)
        if history is None:
            history = rebuild(earlier)
        session = self.assistant.new_session()
        try:
            yield from self.assistant.stream(question, session, history)
            messages = self.assistant.messages(session)
        finally:
            self.assistant.forget(session)
        yield "history", messages

    def remember(
        self, earlier: list[tuple[str, str]], question: str, sent: str, messages: list[BaseMessage]
    ) -> None:
        self.memory.put([*earlier, ("user", question), ("assistant", sent)], messages)


@dataclass
class Job:
    """One request: what to answer, its budget, and the events the worker hands to its handler."""

    earlier: list[tuple[str, str]]
    question: str
    budget: limits.RequestBudget
    loop: asyncio.AbstractEventLoop
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    queue_wait: float = 0.0
    finished: bool = False

    def emit(self, kind: str, payload: object = None) -> None:
        """From the worker thread: hand an event to the handler's event loop."""
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, payload))
        except RuntimeError:  # the loop is closed (server stopped): nobody is listening
            self.budget.cancel("server stopped")


class ModelWorker:
    """Runs jobs one at a time in its own thread, from a queue of at most ``queue_size``."""

    def __init__(self, service: ChatService, queue_size: int = QUEUE_SIZE):
        self.service, self.queue_size = service, queue_size
        self.pending: deque[Job] = deque()
        self.current: Job | None = None
        self.closed = False
        self.answer_seconds: deque[float] = deque([10.0], maxlen=20)  # recent service times
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="stockpilot-model", daemon=True)
        self._thread.start()

    def retry_after(self) -> int:
        """Seconds until a place in the queue is likely free."""
        typical = sorted(self.answer_seconds)[len(self.answer_seconds) // 2]
        return max(1, math.ceil(typical * max(1, len(self.pending)) / 2))

    def submit(self, job: Job) -> int:
        """Queue ``job``; returns its position (1 = next). Full queue: a 429 with Retry-After."""
        with self._wake:
            if self.closed:
                raise APIError(503, "the server is shutting down", kind="server_error", code="shutting_down")  # fmt: skip
            if len(self.pending) >= self.queue_size:
                wait = self.retry_after()
                raise APIError(
                    429,
                    f"the model is busy: {len(self.pending)} requests are waiting; retry in {wait} s",
                    kind="rate_limit_error",
                    code="queue_full",
                    headers={"Retry-After": str(wait)},
                )
            self.pending.append(job)
            self._wake.notify()
            return len(self.pending)

    def withdraw(self, job: Job) -> None:
        """A job nobody waits for: out of the queue, or stopped at the model's next token."""
        job.budget.cancel(job.budget.reason or "client disconnected")
        with self._wake:
            if job in self.pending:
                self.pending.remove(job)
                self._announce()

    def shutdown(self) -> None:
        with self._wake:
            self.closed = True
            for job in [*self.pending, *([self.current] if self.current else [])]:
                job.budget.cancel("shutdown")
                job.emit("stopped", "shutdown")
            self.pending.clear()
            self._wake.notify_all()

    def _announce(self) -> None:
        for position, job in enumerate(self.pending, start=1):
            job.emit("queued", position)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self.pending and not self.closed:
                    self._wake.wait()
                if self.closed:
                    return
                job = self.current = self.pending.popleft()
                self._announce()
            try:
                self._run(job)
            finally:
                self.current = None

    def _run(self, job: Job) -> None:
        job.queue_wait = time.monotonic() - job.budget.started
        if job.budget.stopped():  # left or timed out while waiting: the model never sees it
            job.emit("stopped", job.budget.reason)
            return
        job.emit("started", round(job.queue_wait, 3))
        started = time.monotonic()
        events = self.service.events(job.earlier, job.question)
        try:
            with limits.running(job.budget):
                for event in events:
                    if job.budget.stopped():
                        break
                    job.emit(*event)
                # Closing here, inside the budget: a generation still running sees it stopped.
                events.close()
        except Exception as error:  # noqa: BLE001 - one failed request must not stop the worker
            job.emit("error", f"{type(error).__name__}: {error}")
            return
        self.answer_seconds.append(time.monotonic() - started)
        job.emit("stopped" if job.budget.stopped() else "done", job.budget.reason)


class RequireKey:
    """Every route but ``/health`` needs ``Authorization: Bearer <key>``, the documentation
    routes included (an ASGI middleware, so no route can be added without it)."""

    def __init__(self, app, key: str):
        self.app, self.expected = app, f"Bearer {key}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] != "/health":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not secrets.compare_digest(given, self.expected):
                error = APIError(
                    401,
                    "Incorrect API key provided.",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await error.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def api_key(settings: Settings) -> str | None:
    """The key to require, or None; an empty or blank key is refused rather than read as 'no auth'."""
    key = settings.api_key
    if key is not None and not key.strip():
        raise ConfigurationError(
            "api_key: STOCKPILOT_API_KEY (or api_key in stockpilot.toml) is set but empty, which "
            "would leave the API open; set a key, or unset it to run without one"
        )
    return key


def create_app(
    assistant: Assistant,
    settings: Settings,
    queue_size: int = QUEUE_SIZE,
    deadline_s: float = DEADLINE_S,
) -> FastAPI:
    key = api_key(settings)
    service = ChatService(assistant)
    worker = ModelWorker(service, queue_size)
    started = int(time.time())

    @asynccontextmanager
    async def lifespan(_app):
        yield
        worker.shutdown()

    app = FastAPI(
        title="Stockpilot",
        version="0.1.0",
        summary="OpenAI-compatible supply-chain assistant",
        lifespan=lifespan,
    )
    app.state.worker = worker
    if key is not None:
        app.add_middleware(RequireKey, key=key)

    @app.exception_handler(APIError)
    async def api_error(_request: Request, error: APIError) -> JSONResponse:
        return error.response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
            for e in error.errors()
        )
        return APIError(400, problems).response()

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        return APIError(500, f"{type(error).__name__}: {error}", kind="server_error").response()

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "queued": len(worker.pending), "busy": worker.current is not None}

    def model_card() -> dict:
        return {"id": MODEL_ID, "object": "model", "created": started, "owned_by": "stockpilot"}

    @app.get("/v1/models")
    def list_models() -> dict:
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id}")
    def get_model(model_id: str) -> dict:
        if model_id != MODEL_ID:
            raise APIError(
                404,
                f"The model '{model_id}' does not exist.",
                code="model_not_found",
                param="model",
            )
        return model_card()

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatRequest, http: Request):
        # Any model name is accepted (clients often default to one): there is one model.
        earlier, question = conversation(body)
        job = Job(earlier, question, limits.RequestBudget(deadline_s), asyncio.get_running_loop())
        position = worker.submit(job)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            chunks = stream_chunks(worker, job, position, completion_id, created, include_usage)
            return StreamingResponse(
                chunks,
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return await complete(worker, job, http, completion_id, created)

    return app


def _stop_error(reason: str, worker: ModelWorker, job: Job) -> APIError:
    """Why a request ended without an answer, as the error a client can act on."""
    if reason == "shutdown":
        return APIError(503, "the server is shutting down; retry on another worker", kind="server_error", code="shutting_down")  # fmt: skip
    if reason == "deadline" and job.queue_wait >= job.budget.deadline - job.budget.started:
        wait = worker.retry_after()
        return APIError(
            429,
            f"the request waited {job.queue_wait:.0f} s for the model, past its deadline; retry in {wait} s",
            kind="rate_limit_error",
            code="deadline_in_queue",
            headers={"Retry-After": str(wait)},
        )
    if reason == "deadline":
        return APIError(504, "the answer took longer than the request's deadline", kind="server_error", code="deadline_exceeded")  # fmt: skip
    return APIError(499, f"request {reason}", code="cancelled")


async def complete(worker: ModelWorker, job: Job, http: Request, completion_id: str, created: int):
    """A non-streaming answer; a client that disconnects while waiting cancels its request."""
    final, history = None, []
    try:
        while True:
            try:
                kind, payload = await asyncio.wait_for(job.events.get(), timeout=0.5)
            except TimeoutError:
                if await http.is_disconnected():
                    job.budget.cancel("client disconnected")
                    raise APIError(499, "client disconnected", code="cancelled") from None
                continue
            if kind == "final":
                final = payload
            elif kind == "history":
                history = payload
            elif kind == "error":
                raise APIError(500, str(payload), kind="server_error")
            elif kind == "stopped":
                raise _stop_error(str(payload), worker, job)
            elif kind == "done":
                break
    finally:
        job.finished = True
        worker.withdraw(job) if final is None else None
    content = reply_markdown(final)
    worker.service.remember(job.earlier, job.question, content, history)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage(final),
        "stockpilot": {**final.to_dict(), "queue_wait_s": round(job.queue_wait, 3)},
    }


async def stream_chunks(
    worker: ModelWorker,
    job: Job,
    position: int,
    completion_id: str,
    created: int,
    include_usage: bool,
) -> AsyncIterator[str]:
    """SSE lines: the queue position while waiting, answer tokens as they are generated, then
    the evidence, then ``[DONE]``. A client that leaves (this generator is cancelled) or an
    error ends the request: the worker stops it at the model's next token."""

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"

    def failure(error: APIError) -> str:
        return f"data: {json.dumps(error.body())}\n\ndata: [DONE]\n\n"

    sent, reply, history, separate = "", None, [], False
    try:
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({}, stockpilot={"event": "queued", "position": position})
        while True:
            try:
                kind, payload = await asyncio.wait_for(job.events.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": waiting\n\n"  # an SSE comment; also how a vanished client is noticed
                continue
            if kind == "queued":
                yield chunk({}, stockpilot={"event": "queued", "position": payload})
            elif kind == "started":
                yield chunk({}, stockpilot={"event": "started", "queue_wait_s": payload})
            elif kind == "token":
                # Text from an earlier model call (before a tool call) is kept apart from the answer.
                text = ("\n\n" if separate and sent else "") + escape_markdown(payload)
                separate, sent = False, sent + text
                yield chunk({"content": text})
            elif kind in {"tool_start", "tool_end"}:
                separate = True
                tool = payload if kind == "tool_start" else _tool_event(payload)
                yield chunk({}, stockpilot={"event": kind, "tool": tool})
            elif kind == "final":
                reply = payload
            elif kind == "history":
                history = payload
            elif kind == "error":
                yield failure(APIError(500, str(payload), kind="server_error"))
                return
            elif kind == "stopped":
                yield failure(_stop_error(str(payload), worker, job))
                return
            elif kind == "done":
                break
        job.finished = True
    finally:
        if not job.finished:  # cancelled (client gone) or ended early: free the model
            worker.withdraw(job)
    if sent.strip():
        tail = [unverified_line(reply), escape_markdown(reply.notice), evidence_markdown(reply)]
    else:  # nothing streamed (e.g. the loop stopped): the whole reply
        tail = [reply_markdown(reply)]
    tail_text = "\n\n".join(p for p in tail if p)
    if tail_text:
        tail_text = ("\n\n" if sent else "") + tail_text
        sent += tail_text
        yield chunk({"content": tail_text})
    worker.service.remember(job.earlier, job.question, sent, history)
    final = {**reply.to_dict(), "content": reply_markdown(reply), "queue_wait_s": round(job.queue_wait, 3)}  # fmt: skip
    yield chunk({}, "stop", stockpilot=final)
    if include_usage:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [],
            "usage": usage(reply),
        }
        yield f"data: {json.dumps(body)}\n\n"
    yield "data: [DONE]\n\n"


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` until SIGTERM/SIGINT: queued and running requests are cancelled at once
    (their clients get a 503 error event), so the server does not wait on answers nobody
    will read, then uvicorn closes the connections."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            app.state.worker.shutdown()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=host, port=port, timeout_graceful_shutdown=5)
    Server(config).run()


def serve_api(settings: Settings) -> None:
    """Load the configured model and serve the API until interrupted."""
    from assistant.agent import build_assistant

    try:
        api_key(settings)
    except ConfigurationError as error:
        raise SystemExit(f"error: {error}") from None
    run_server(
        create_app(build_assistant(settings), settings), settings.api_host, settings.api_port
    )
