"""What one request may cost: the bounds on its input and the time it may hold the model.

One place for the limits, so the API, the UI and the CLI refuse the same input with the same
words (``check_request``), and one place for cancellation (``RequestBudget``): a CPU model runs
one generation at a time per process, so a request that nobody waits for any more (a client
that left, a deadline that passed) must free the model at its next token.

The cancellation contract for model backends: call ``stop_check()`` once when a generation
starts and call the function it returns before each new token; when it returns True, stop and
return what was generated so far. The check is captured at the start of a generation, so it
follows the request that started it, not whichever request is active later.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

MAX_MESSAGES = 50  # messages in one API request (system, user, assistant and tool turns)
MAX_MESSAGE_CHARS = 8_000  # an earlier answer sent back with its evidence tables fits
MAX_QUESTION_CHARS = 2_000  # a question, a pasted PO list: far beyond what staff type
MAX_QUESTION_TOKENS = 768  # prompt tokens the question may add (estimated without a tokenizer)
MAX_TOTAL_CHARS = 120_000  # the whole conversation a client sends in one request
# A 20 KB message cost 7,909 prompt tokens (2.6 characters a token) and held the model 99 s.
CHARS_PER_TOKEN_ESTIMATE = 3


class RequestLimitError(ValueError):
    """Input over a limit or malformed; ``param`` names the field (OpenAI's error ``param``)."""

    def __init__(self, message: str, param: str = "messages"):
        super().__init__(message)
        self.param = param


def estimate_tokens(text: str) -> int:
    """Prompt tokens ``text`` may cost, erring high: UTF-8 bytes / 3 (English runs ~4-5 per
    token, markup and non-Latin text fewer; both are what make prompts long)."""
    return -(-len(text.encode("utf-8")) // CHARS_PER_TOKEN_ESTIMATE)


def _text(item: object) -> str:
    """A history item's text: a string, a LangChain message (``.text``) or a (role, text) pair."""
    if isinstance(item, str):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return str(item[1] or "")
    text = getattr(item, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(item, "content", "")
    return content if isinstance(content, str) else str(content)


def _is_tool_turn(item: object) -> bool:
    return getattr(item, "type", None) == "tool" or (
        isinstance(item, tuple) and len(item) == 2 and item[0] == "tool"
    )


def check_request(
    question: object,
    history: Sequence[object] = (),
    count_tokens: Callable[[str], int] | None = None,
) -> str:
    """Refuse a question (and the conversation before it) that is over a limit or malformed;
    returns the question as text. Raises ``RequestLimitError`` naming the limit and the field.

    ``history`` holds earlier turns as strings, LangChain messages or (role, text) pairs; tool
    turns are the server's own and not counted. ``count_tokens`` is the model's tokenizer when
    the caller has one; otherwise tokens are estimated (``estimate_tokens``)."""
    if not isinstance(question, str):
        raise RequestLimitError(
            f"the question must be text, got {type(question).__name__}", "messages"
        )
    if not question.strip():
        raise RequestLimitError("the question is empty", "messages")
    if "\x00" in question:
        raise RequestLimitError("the question holds a NUL character", "messages")
    if len(question) > MAX_QUESTION_CHARS:
        raise RequestLimitError(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}",
            "messages",
        )
    tokens = (count_tokens or estimate_tokens)(question)
    if tokens > MAX_QUESTION_TOKENS:
        raise RequestLimitError(
            f"the question is about {tokens:,} prompt tokens; the limit is {MAX_QUESTION_TOKENS:,}",
            "messages",
        )
    turns = [item for item in history if not _is_tool_turn(item)]
    if len(turns) + 1 > MAX_MESSAGES:
        raise RequestLimitError(
            f"the conversation has {len(turns) + 1} messages; the limit is {MAX_MESSAGES}",
            "messages",
        )
    total = len(question)
    for i, item in enumerate(turns):
        text = _text(item)
        if len(text) > MAX_MESSAGE_CHARS:
            raise RequestLimitError(
                f"earlier message {i + 1} is {len(text):,} characters; the limit is "
                f"{MAX_MESSAGE_CHARS:,}",
                f"messages[{i}].content",
            )
        total += len(text)
    if total > MAX_TOTAL_CHARS:
        raise RequestLimitError(
            f"the conversation is {total:,} characters; the limit is {MAX_TOTAL_CHARS:,}",
            "messages",
        )
    return question


def has_control_characters(text: str) -> bool:
    """Control characters other than tab and newline (NUL, escape, CR...): never in a name."""
    return any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in text)


# -- time and cancellation -------------------------------------------------------------------

DEFAULT_DEADLINE_S = 120.0  # a request older than this is not worth the model's time


class RequestBudget:
    """One request's deadline and cancel flag; ``stopped()`` is what a generation checks."""

    def __init__(self, deadline_s: float = DEFAULT_DEADLINE_S):
        self.started = time.monotonic()
        self.deadline = self.started + deadline_s
        self._cancelled = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._cancelled.is_set():
            self.reason = reason
            self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def stopped(self) -> bool:
        if self.expired() and not self.cancelled:
            self.cancel("deadline")
        return self.cancelled

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


_active: RequestBudget | None = None
_active_lock = threading.Lock()


def _never() -> bool:
    return False


def stop_check() -> Callable[[], bool]:
    """For a model backend, once per generation: the check to call before each token (it is
    the active request's ``stopped``, or a check that never stops when none is active)."""
    budget = _active
    return budget.stopped if budget is not None else _never


@contextmanager
def running(budget: RequestBudget) -> Iterator[RequestBudget]:
    """Make ``budget`` the one whose generations ``stop_check`` follows, for a server that runs
    one request at a time (assistant.api's worker). Not for concurrent callers."""
    global _active
    with _active_lock:
        previous, _active = _active, budget
    try:
        yield budget
    finally:
        with _active_lock:
            _active = previous


# -- the UI login ----------------------------------------------------------------------------


class LoginThrottle:
    """Gradio's ``auth`` callable for one ``user:password``, throttled: every wrong attempt
    costs ``delay_s``, and after ``max_failures`` wrong attempts within ``window_s`` every
    attempt (the right password too) is refused until ``lockout_s`` has passed, doubling with
    each further lockout. Counted over all names: guessing across user names gains nothing."""

    def __init__(
        self,
        user: str,
        password: str,
        max_failures: int = 5,
        window_s: float = 300.0,
        lockout_s: float = 30.0,
        delay_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._user, self._password = user.encode(), password.encode()
        self.max_failures, self.window_s, self.lockout_s, self.delay_s = (
            max_failures,
            window_s,
            lockout_s,
            delay_s,
        )
        self.clock, self.sleep = clock, sleep
        self.failures: list[float] = []
        self.locked_until = 0.0
        self.lockouts = 0
        self._lock = threading.Lock()

    def __call__(self, username: str, password: str) -> bool:
        import secrets

        now = self.clock()
        with self._lock:
            if now < self.locked_until:
                return False
        right = secrets.compare_digest(str(username).encode(), self._user) & secrets.compare_digest(
            str(password).encode(), self._password
        )
        if right:
            return True
        with self._lock:
            self.failures = [t for t in self.failures if now - t < self.window_s] + [now]
            if len(self.failures) >= self.max_failures:
                self.locked_until = now + self.lockout_s * 2**self.lockouts
                self.lockouts += 1
                self.failures = []
        self.sleep(self.delay_s)
        return False
