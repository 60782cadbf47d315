"""OpenAI-compatible HTTP API over the Assistant (`stockpilot api`): any OpenAI client can chat
with Stockpilot through ``POST /v1/chat/completions`` (plain or SSE streaming) and ``GET /v1/models``.

Sessions: like OpenAI's API, this one is stateless: the request's messages are the conversation.
The last user message is the question; the earlier user/assistant messages are the memory. So that
the model keeps seeing its earlier tool results (as it does in the CLI and in training), each
answered conversation is remembered under a hash of its messages; a request whose earlier messages
hash to a remembered conversation continues from it, tool turns included. Otherwise (server
restart, edited or foreign history) the earlier turns are rebuilt from their text alone. A
``user``-keyed server session was rejected: clients resend the whole history, so it would repeat
turns and break edits and regenerations. Client system prompts and client-side tools are ignored:
the model only speaks its own protocol and the registry's tools.

Response content is ``AssistantReply.markdown()``: the grounded answer (unsupported items marked)
followed by deliverables and each tool's table as evidence. The tool trace is in a non-standard
``stockpilot`` field, which OpenAI clients ignore.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field

from assistant.agent import Assistant, AssistantReply
from assistant.grounding import MARK
from assistant.settings import Settings

MODEL_ID = "stockpilot"
REMEMBERED_CONVERSATIONS = 256
# Streamed tokens cannot be marked in place: a line after them lists the unsupported items.
UNVERIFIED = "Unverified (not in any tool result): "
# Where the evidence starts in an earlier answer that a client sends back.
_EVIDENCE = re.compile(r"\n\n(?:```text\n|> source: `|> tool `|" + re.escape(UNVERIFIED) + ")")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used

    role: str
    content: str | list[dict] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(
                part.get("text", "") for part in self.content if part.get("type") == "text"
            )
        return self.content or ""


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
    ):
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = (
            status,
            message,
            kind,
            code,
            param,
        )

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }


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


def conversation(request: ChatRequest) -> tuple[list[tuple[str, str]], str]:
    """(earlier user/assistant turns, question) from the request's messages."""
    turns = [(m.role, m.text()) for m in request.messages if m.role in {"user", "assistant"}]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise APIError(
            400,
            "messages: the last user/assistant message must be a non-empty user message",
            param="messages",
        )
    return turns[:-1], turns[-1][1]


def rebuild(turns: Sequence[tuple[str, str]]) -> list[BaseMessage]:
    """Earlier turns from text only: answers without their evidence and marks, as the model wrote them."""
    messages: list[BaseMessage] = []
    for role, content in turns:
        if role == "user":
            messages.append(HumanMessage(content))
        else:
            answer = _EVIDENCE.split(content, maxsplit=1)[0].replace(MARK, "")
            messages.append(AIMessage(answer.strip()))
    return messages


def usage(reply: AssistantReply) -> dict:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def unverified_line(reply: AssistantReply) -> str:
    """Streamed tokens cannot be marked in place: the list of unsupported items follows them."""
    items = list(dict.fromkeys(reply.grounding.unsupported))
    return UNVERIFIED + ", ".join(items) if items else ""


def _tool_event(run) -> dict:
    return {
        "name": run.name,
        "arguments": run.arguments,
        "ok": run.ok,
        "error": run.error,
        "seconds": round(run.seconds, 3),
    }


class ChatService:
    """Runs one request through the Assistant, one at a time (one model, one CPU, one store connection)."""

    def __init__(self, assistant: Assistant):
        self.assistant, self.memory = assistant, ConversationMemory()
        self.lock = threading.Lock()

    def events(self, earlier: list[tuple[str, str]], question: str) -> Iterator[tuple[str, object]]:
        """Assistant events for this conversation, then ``("history", messages)`` to pass to
        ``remember`` with the content actually sent."""
        history = self.memory.get(earlier)
        if history is None:
            history = rebuild(earlier)
        session = self.assistant.new_session()
        with self.lock:
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


def key_accepted(settings: Settings, authorization: str | None) -> bool:
    """The one API-key rule, shared with the MCP server (assistant.mcp_server): True when no key
    is configured, or the ``Authorization`` header is ``Bearer <api_key>``."""
    if not settings.api_key:
        return True
    expected = f"Bearer {settings.api_key}"
    return secrets.compare_digest((authorization or "").encode(), expected.encode())


def create_app(assistant: Assistant, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Stockpilot", version="0.1.0", summary="OpenAI-compatible supply-chain assistant"
    )
    service = ChatService(assistant)
    started = int(time.time())

    @app.exception_handler(APIError)
    async def api_error(_request: Request, error: APIError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
        )
        return JSONResponse(APIError(400, problems).body(), status_code=400)

    def authorised(authorization: str | None = Header(None)) -> None:
        if not key_accepted(settings, authorization):
            raise APIError(401, "Incorrect API key provided.", code="invalid_api_key")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    def model_card() -> dict:
        return {"id": MODEL_ID, "object": "model", "created": started, "owned_by": "stockpilot"}

    @app.get("/v1/models", dependencies=[Depends(authorised)])
    def list_models() -> dict:
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id}", dependencies=[Depends(authorised)])
    def get_model(model_id: str) -> dict:
        if model_id != MODEL_ID:
            raise APIError(
                404,
                f"The model '{model_id}' does not exist.",
                code="model_not_found",
                param="model",
            )
        return model_card()

    @app.post("/v1/chat/completions", dependencies=[Depends(authorised)])
    def chat_completions(request: ChatRequest):
        # Any model name is accepted (clients often default to one): there is one model.
        earlier, question = conversation(request)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if request.stream:
            include_usage = bool((request.stream_options or {}).get("include_usage"))
            chunks = stream_chunks(
                service, earlier, question, completion_id, created, include_usage
            )
            return StreamingResponse(
                chunks,
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        events = dict(service.events(earlier, question))  # only the last of each kind is kept
        reply = events["final"]
        content = reply.markdown()
        service.remember(earlier, question, content, events["history"])
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
            "usage": usage(reply),
            "stockpilot": reply.to_dict(),
        }

    return app


def stream_chunks(
    service: ChatService,
    earlier: list[tuple[str, str]],
    question: str,
    completion_id: str,
    created: int,
    include_usage: bool,
) -> Iterator[str]:
    """SSE lines: answer tokens as they are generated, then the evidence, then ``[DONE]``."""

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

    yield chunk({"role": "assistant", "content": ""})
    sent, reply, history, separate = "", None, [], False
    try:
        for kind, payload in service.events(earlier, question):
            if kind == "token":
                # Text from an earlier model call (before a tool call) is kept apart from the answer.
                text = ("\n\n" if separate and sent else "") + payload
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
    except Exception as error:  # the client sees a typed APIError instead of a cut-off stream
        body = APIError(500, f"{type(error).__name__}: {error}", kind="server_error").body()
        yield f"data: {json.dumps(body)}\n\n"
        yield "data: [DONE]\n\n"
        return
    if sent.strip():
        tail = [unverified_line(reply), reply.notice, reply.evidence_markdown()]
    else:  # nothing streamed (e.g. the loop stopped): the whole reply
        tail = [reply.markdown()]
    tail_text = "\n\n".join(p for p in tail if p)
    if tail_text:
        tail_text = ("\n\n" if sent else "") + tail_text
        sent += tail_text
        yield chunk({"content": tail_text})
    service.remember(earlier, question, sent, history)
    yield chunk({}, "stop", stockpilot={**reply.to_dict(), "content": reply.markdown()})
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


def serve_api(settings: Settings) -> None:
    """Load the configured model and serve the API until interrupted."""
    import uvicorn

    from assistant.agent import build_assistant

    app = create_app(build_assistant(settings), settings)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port)
