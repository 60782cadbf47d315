"""Deterministic stand-ins for the model in assistant tests: a scripted backend, a tiny stock bot
and test-only tools. The tools live in TEST_TOOLS, not the app's registry; the ``test_tools``
fixture (tests/conftest.py) adds them to it for the modules that use them, and takes them out
again."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pandas as pd

from assistant.agent import Assistant
from assistant.model.backends import Reply, parsed, protocol_prompt
from assistant.model.chat_model import StockpilotChatModel
from assistant.protocol import Turn
from tools.arguments import HorizonDays, Location, Sku
from tools.registry import Request, ToolContext, ToolError, ToolResult, ToolSpec, load_tools, tool

STOCK = {"SKU-00042": (120, 15), "SKU-00007": (8, 0)}  # sku -> (on hand, reserved)
TEST_TOOLS: dict[str, ToolSpec] = {}


class StockLevelRequest(Request):
    sku: Sku
    location: Location = None
    horizon_days: HorizonDays = 7


class StockLevel(ToolResult):
    sku: str
    on_hand: int
    reserved: int

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"sku": self.sku, "on_hand": self.on_hand, "reserved": self.reserved}])


@tool(
    "test_stock_level",
    "on-hand and reserved stock for one SKU (test only)",
    StockLevelRequest,
    agent=False,
    registry=TEST_TOOLS,
)
def stock_level(ctx: ToolContext, req: StockLevelRequest) -> StockLevel:
    if req.sku not in STOCK:
        raise ToolError(f"sku: unknown SKU '{req.sku}'")
    on_hand, reserved = STOCK[req.sku]
    return StockLevel(sku=req.sku, on_hand=on_hand, reserved=reserved)


class CrashRequest(Request):
    pass


@tool(
    "test_crashing_tool",
    "a tool with a bug (test only)",
    CrashRequest,
    agent=False,
    registry=TEST_TOOLS,
)
def crashing_tool(ctx: ToolContext, req: CrashRequest) -> ToolResult:
    raise RuntimeError("division by zero in the projection")


def fake_tool_specs(*extra: str) -> list[ToolSpec]:
    registry = load_tools()
    return [*TEST_TOOLS.values(), *(registry[n] for n in extra)]


class Recording:
    """Keeps every prompt exactly as a protocol model would see it."""

    name = "recording"

    def __init__(self):
        self.prompts: list[str] = []
        self.turns: list[list[Turn]] = []

    def record(self, turns: Sequence[Turn], specs) -> None:
        self.turns.append(list(turns))
        self.prompts.append(protocol_prompt(turns, specs))


class ScriptedBackend(Recording):
    """Replies with raw generated texts in order (the last one repeats), streamed word by word
    like a real model, call markup included, and parsed with the real protocol parser."""

    def __init__(self, *texts: str):
        super().__init__()
        self.texts = list(texts)

    def respond(self, turns, specs, on_token=None) -> Reply:
        self.record(turns, specs)
        text = self.texts.pop(0) if len(self.texts) > 1 else self.texts[0]
        for piece in re.findall(r"\S+\s*|\s+", text):
            if on_token:
                on_token(piece)
        return parsed(
            text, {"prompt_tokens": len(self.prompts[-1]) // 4, "completion_tokens": len(text) // 4}
        )


class StockBot(Recording):
    """Looks up the SKU named in the question (or, for a follow-up, the latest one in the
    conversation) and answers from the tool result; 'guess' makes it invent a figure."""

    def respond(self, turns, specs, on_token=None) -> Reply:
        self.record(turns, specs)
        last = turns[-1]
        if last.role == "tool":
            data = json.loads(last.content)
            question = next(t.content for t in reversed(turns) if t.role == "user")
            text = f"{data['sku']} has {data['on_hand']} units on hand."
            if "guess" in question:
                text += " About 35 more arrive on 2026-12-09."
        elif "reserved" in last.content:
            earlier = [
                json.loads(t.content)
                for t in turns
                if t.role == "tool" and t.content.startswith("{")
            ]
            text = (
                f"{earlier[-1]['reserved']} of them are reserved."
                if earlier
                else "Which SKU do you mean?"
            )
        elif sku := re.search(r"SKU-\d{5}", last.content):
            text = f'<tool_call>test_stock_level {{"sku": "{sku.group(0)}"}}</tool_call>'
        else:
            text = "I can only help with stock levels."
        for piece in re.findall(r"\S+\s*|\s+", text):
            if on_token:
                on_token(piece)
        return parsed(text, {"prompt_tokens": 100, "completion_tokens": len(text.split())})


def make_assistant(backend, *extra_tools: str, answers: str = "model") -> Assistant:
    """An assistant over the fake tools. The scripted backends write their own answers after
    the tools ran (``answers="model"``, as a large endpoint model does); ``answers="tools"``
    composes them from the tools' summaries, as the app does with the local model."""
    return Assistant(
        StockpilotChatModel(backend=backend, answers=answers),
        ToolContext(store=None),
        fake_tool_specs(*extra_tools),
    )
