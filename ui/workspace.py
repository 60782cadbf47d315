"""The UI process's one handle on the data: the assistant, its read-only store, and the lock
that lets the Data tab write.

DuckDB admits one writer per file and a process cannot hold a read-only and a writable
connection to the same file at once. So reads (chat, charts, alerts) share a read-only
connection, and a write closes it, opens the file writable, and reopens it read-only after.
The assistant keeps working across writes because its tools hold the ``ToolContext`` object,
whose ``store`` is swapped in place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistant.settings import Settings
from tools.registry import ToolContext, ToolRun, call_tool


class NoDataError(RuntimeError):
    """The database does not exist yet: the Data tab can generate or import it."""


class ReadWriteLock:
    """Many readers or one writer. A waiting writer holds back new readers so it is not starved
    by a steady stream of chat questions."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class Workspace:
    """Settings, the assistant (built on first use unless given) and guarded store access."""

    def __init__(self, settings: Settings, assistant: Any | None = None):
        self.settings = settings
        self.lock = ReadWriteLock()
        self._assistant = assistant
        self._build_lock = threading.Lock()
        self.data_version = 0  # bumped by every write: caches of derived views compare it
        self._budgets: dict[str, Any] = {}  # session -> RequestBudget of its streaming answer

    # -- the assistant and its context ----------------------------------------------------
    @property
    def assistant(self):
        """The chat assistant; raises NoDataError while there is no database to answer from."""
        with self._build_lock:
            if self._assistant is None:
                if not self.settings.database.exists():
                    raise NoDataError(self.no_data_message())
                from assistant.agent import build_assistant

                self._assistant = build_assistant(self.settings)
            return self._assistant

    @property
    def ctx(self) -> ToolContext:
        return self.assistant.ctx

    def no_data_message(self) -> str:
        return (
            f"No database at {self.settings.database} yet: generate sample data or import files "
            "in the Data tab."
        )

    def retriever(self):
        """The SOP retriever: the assistant's own when it is built (one cache), else a new one."""
        sops = self._assistant.ctx.sops if self._assistant is not None else None
        if sops is not None:
            return sops
        from knowledge.retrieve import open_retriever

        return open_retriever(path=self.settings.vector_store, url=self.settings.chroma_url)

    # -- reads ------------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[ToolContext]:
        """The read-only context, guaranteed not to be swapped while the block runs."""
        ctx = self.ctx  # build outside the lock: loading a model must not block writers
        with self.lock.read():
            yield ctx

    def call(self, name: str, arguments: dict | None = None) -> ToolRun:
        """Run one registry tool on the read-only store (what `stockpilot tool run` does)."""
        with self.reading() as ctx:
            return call_tool(ctx, name, arguments or {})

    def stream(
        self, question: str, session_id: str, stop_key: str | None = None
    ) -> Iterator[tuple[str, Any]]:
        """``Assistant.stream`` with the read lock held only while the agent computes, never
        across a yield: a browser that goes away mid-answer must not leave a writer blocked.

        Each answer runs under an ``assistant.limits.RequestBudget`` that ``cancel(stop_key)``
        (the Stop button; ``stop_key`` defaults to the session) sets, so the model stops at its
        next token instead of finishing for nobody; the stream then ends with a
        ``("stopped", reason)`` event, so the caller can say so in its own last update.
        (``limits.running`` follows one active request per process; with two answers at once
        a Stop may also end the other one's current generation: the price of a CPU model.)
        """
        from assistant import limits

        key = stop_key or session_id
        assistant = self.assistant
        events = assistant.stream(question, session_id)
        budget = self._budgets[key] = limits.RequestBudget()
        try:
            while not budget.cancelled:
                with self.lock.read(), limits.running(budget):
                    event = next(events, None)
                if event is None:
                    return
                yield event
            yield "stopped", budget.reason
        finally:
            events.close()
            if self._budgets.get(key) is budget:
                del self._budgets[key]

    def cancel(self, stop_key: str | None) -> bool:
        """Stop the answer streaming under ``stop_key`` (the Stop button); False if none is."""
        budget = self._budgets.get(stop_key or "")
        if budget is None:
            return False
        budget.cancel("stopped by the user")
        return True

    # -- writes -----------------------------------------------------------------------------
    @contextmanager
    def writing(self, open_store: bool = True) -> Iterator[ToolContext | None]:
        """Exclusive access: the read-only connection is closed for the block's duration.

        With ``open_store`` the block gets a writable context; without it the file is left
        closed (for the simulator, which writes the file itself).
        """
        from assistant.context import open_context

        with self.lock.write():
            ctx = self._assistant.ctx if self._assistant is not None else None
            if ctx is not None:
                ctx.store.close()
            writable = None
            try:
                if open_store:
                    writable = open_context(self.settings, read_only=False, with_sops=False)
                    writable.forecast_backend = self.settings.forecast_backend
                    writable.dask_address = self.settings.dask_address
                yield writable
            finally:
                self.data_version += 1
                if writable is not None:
                    writable.store.close()
                if ctx is not None and self.settings.database.exists():
                    from assistant.context import open_store as reopen

                    ctx.store = reopen(self.settings, read_only=True)
