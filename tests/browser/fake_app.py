"""The app as `python -m ui.app` serves it, with a fake assistant model for the browser tests:
the keyword rules (fast, real tool calls on the test data), except that a question with
"slowly" in it gets a long answer streamed word by word (to test Stop and the locked input).

Run as `python tests/browser/fake_app.py` with the same STOCKPILOT_* environment as ui.app.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from assistant.model.backends import Reply  # noqa: E402
from assistant.model.rules import RulesBackend  # noqa: E402

SLOW_WORDS = 300  # x 0.1 s: half a minute, far longer than any test waits for it
SLOW_ANSWER = "This answer streams slowly, one word at a time"


class BrowserBackend:
    """RulesBackend, plus a slow streamed answer for questions that ask for one."""

    name = "browser-fake"

    def __init__(self) -> None:
        self.rules = RulesBackend()

    def respond(self, turns, specs, on_token=None) -> Reply:
        last = turns[-1]
        if last.role == "user" and "slowly" in last.content.lower():
            from assistant.limits import stop_check

            stopped = stop_check()  # the backend contract: stop at the next token when asked
            words = []
            for i in range(SLOW_WORDS):
                if stopped():
                    break
                word = f"{SLOW_ANSWER} ({i + 1}). " if i == 0 else f"word{i} "
                words.append(word)
                if on_token:
                    on_token(word)
                time.sleep(0.1)
            return Reply("".join(words))
        return self.rules.respond(turns, specs, on_token)


def fake_assistant(settings):
    from assistant.agent import Assistant
    from assistant.context import open_context
    from assistant.model.chat_model import StockpilotChatModel

    ctx = open_context(settings, read_only=True)
    return Assistant(StockpilotChatModel(backend=BrowserBackend()), ctx)


def main() -> None:
    import ui.app as ui_app
    from assistant.settings import load_settings

    build = ui_app.build_app
    ui_app.build_app = lambda settings, assistant=None: build(settings, fake_assistant(settings))
    ui_app.launch(load_settings())


if __name__ == "__main__":
    main()
