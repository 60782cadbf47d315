"""Checks on a model's tool calls before they run: optional filters the conversation never
mentioned are dropped, and a horizon the user spelled out is read from their words.

A small model sometimes adds a filter nobody asked for (``supplier="supplier_performance"``,
``capacity_kg=100``); the tool would then quietly answer a narrower question than the one
asked. An optional argument whose value appears nowhere in the conversation (user turns,
earlier calls, tool results other than errors) or is only a function word ("the") is removed
and noted in the reply's stats. Required arguments
are left for the tool to validate, and values the model derives from words (horizons,
service levels, alert kinds, PO status) are not checked: "next month" is 28 days without
the digits appearing anywhere. Settings only the user chooses (how many rows, vans, kg, which
day) must come from the user's words, not from a number in a tool result ("36 SKUs at risk"
is not ``limit=36``), and a count is not a duration ("next 36 days" is not ``limit=36``
either). An argument the tool does not take at all is dropped too: the tool
would refuse the whole call for it. A value outside an argument's fixed choices is mended
when it names choices ("critical_demand_drop" is severity critical and kind demand_drop) and
otherwise dropped if optional.

Horizons are arithmetic, which a 135M model gets wrong ("next 9 weeks" became 28 days): when the
latest request names exactly one horizon, ``horizon_days`` is computed from it in code. The
model still decides whether the tool takes a horizon at all.

A call that cannot run because a required slot holds a name of another kind (a supplier's name
as the SKU), or whose free text is nothing but an entity's code (the SOP search for "PO-4113"),
is chosen again, with the same prompt, among the tools that take every kind of
entity it names (a backend that can hold decoding to some tools' names says so with
``chooses_tools``). An empty optional choice takes the one several-word choice the request
names ("demand spikes" is ``kind="demand_spike"``). A call to a tool whose grounds the request
does not give (``ToolSpec.grounds``: a what-if naming no change) is chosen again in the same way
among the other tools.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

from pydantic import ValidationError
from rapidfuzz import fuzz, process

from assistant.model.slots import (
    CODED,
    FUNCTION_WORDS,
    MOVABLE,
    fill_slots,
    latest_request,
    lookups,
    names_nothing,
    refers_only,
    row_kind,
)
from assistant.protocol import CALL_OPEN, Call, Turn
from tools.arguments import ENTITY_KINDS, arguments_of_kind, entity_kind
from tools.changes import cancellation, delay_days, percent_change, share_lost, stock_lost, without
from tools.horizons import AMOUNT, horizon_days
from tools.registry import ToolSpec, failed

# Kinds of argument checked against the conversation: entities, and the settings only the user
# chooses (how many rows, vans, kg, which day), looked up in the user's words and earlier calls,
# not in tool results. Of those, counts: "36 days" is a duration, not a count.
# Not checked: values computed from words (horizons, changes, shares, delays) and free text.
CHECKED_KINDS = set(ENTITY_KINDS) - {"horizon", "change", "share", "delay", "cancellation", "text"}
USER_CHOSEN_KINDS = {"date", "period", "count"}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def conversation_text(turns: Sequence[Turn]) -> str:
    """What the conversation has said so far: user turns, tool results and earlier calls.
    An error result is left out: it echoes back a value the tool did not know."""
    parts = []
    for turn in turns:
        if turn.role == "user" or (turn.role == "tool" and not failed(turn.content)):
            parts.append(turn.content)
        parts += [json.dumps(c.arguments) for c in turn.calls]
    return "\n".join(parts)


def mentioned(value, text: str, said: str | None = None) -> bool:
    """Is ``value`` written somewhere in ``text`` (loosely: case, spaces, dashes aside)? A code
    also counts when its number is in ``said`` (the user's words, ``text`` if not given):
    "purchase order 1234" names PO-1234, but a "1" in a tool result names no PO-1."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int | float):
        number = str(int(value)) if float(value).is_integer() else str(value)
        return number in re.findall(r"\d+(?:\.\d+)?", text)
    squashed, haystack = _squash(str(value)), _squash(text)
    if not squashed or squashed in haystack:
        return True
    code = re.fullmatch(r"[a-z]{1,3}(\d+)", squashed)
    return bool(code) and code.group(1) in re.findall(r"\d+", text if said is None else said)


# Settings read from the latest request's words (tools.changes), in this order; a reader's span
# is blanked for the ones after it where the call sets its argument, so in a what-if "drops by
# a quarter" is a change, not an 84-day horizon, and "slips a week" a delay, not a horizon.
READERS = {"change": percent_change, "share": share_lost, "delay": delay_days}
# A call that sets none of those (a what-if naming only its PO) takes each edit the words name,
# a share of stock only where the words say it is lost.
FILLERS = READERS | {"share": stock_lost, "cancellation": cancellation}


def resolve_settings(
    calls: list[Call], turns: Sequence[Turn], specs: Sequence[ToolSpec], today=None
) -> tuple[list[Call], list[str]]:
    """Set the changes, shares lost and delays the latest request names on the arguments of
    those kinds the model set (on every edit the words name where it set none), and the
    horizon it names on every horizon argument."""
    request, _ = latest_request(turns)
    by_name = {spec.name: spec for spec in specs}
    resolved, changed = [], []
    for call in calls:
        spec = by_name.get(call.name)
        if spec is None:
            resolved.append(call)
            continue
        text, arguments = request, dict(call.arguments)
        edits = {kind: arguments_of_kind(spec.request, kind) for kind in FILLERS}
        chosen = {kind for kind, keys in edits.items() if _any_set(arguments, keys)}
        said = {kind for kind, keys in edits.items() if keys and FILLERS[kind](request)}
        if chosen and said and not chosen & said:  # "we lost 30% of the stock" set as a demand drop
            for kind in chosen:
                for key in edits[kind]:
                    arguments.pop(key, None)
            chosen = set()
        unset = not chosen
        for kind, read in (FILLERS if unset else READERS).items():
            keys = [k for k in arguments_of_kind(spec.request, kind) if unset or k in arguments]
            found = read(text) if keys else None
            if found is not None:
                text = without(text, found)
                arguments |= dict.fromkeys(keys, found.number)
        days = horizon_days(text, today)
        if days is not None:
            arguments |= {key: days for key in arguments_of_kind(spec.request, "horizon")}
        changed += [
            f"{call.name}.{key}={value}"
            for key, value in arguments.items()
            if call.arguments.get(key, object()) != value
        ]
        resolved.append(Call(call.name, arguments))
    return resolved, changed


def _any_set(arguments: dict, keys: list[str]) -> bool:
    return any(arguments.get(k) not in (None, False) for k in keys)


def repair_names(calls: list[Call], specs: Sequence[ToolSpec]) -> tuple[list[Call], list[str]]:
    """A tool name the model made up ('forecast') becomes the registered one it plainly means;
    one that means none stays, for the agent to report back."""
    names = [spec.name for spec in specs]
    repaired, notes = [], []
    for call in calls:
        if call.name not in names:
            best = process.extractOne(call.name, names, scorer=fuzz.WRatio)
            if best and best[1] >= NAME_SCORE:
                notes.append(f"{best[0]}: tool name '{call.name}' read as {best[0]}")
                call = Call(best[0], call.arguments)
        repaired.append(call)
    return repaired, notes


NAME_SCORE = 86


def drop_unsaid(
    calls: list[Call], turns: Sequence[Turn], specs: Sequence[ToolSpec]
) -> tuple[list[Call], list[str]]:
    """(calls without unmentioned optional filters, ['tool.argument=value', ...] dropped)."""
    text = conversation_text(turns)
    said = "\n".join(t.content for t in turns if t.role == "user")
    counts = AMOUNT.sub(" ", said.lower())  # "next 36 days" names a horizon, not 36 rows
    by_name = {spec.name: spec for spec in specs}
    kept, dropped = [], []
    for call in calls:
        spec = by_name.get(call.name)
        if spec is None:
            kept.append(call)
            continue
        fields = spec.request.model_fields
        arguments = {}
        for key, value in call.arguments.items():
            optional = key in fields and not fields[key].is_required()
            source = text
            kind = entity_kind(spec.request, key)
            if (
                kind in USER_CHOSEN_KINDS
            ):  # the user's words, or the same setting in an earlier call
                earlier = [
                    str(c.arguments[key]) for t in turns for c in t.calls if key in c.arguments
                ]
                source = "\n".join([counts if kind == "count" else said, *earlier])
            unknown = key not in fields
            unsaid = not mentioned(value, source, said) or names_nothing(value, FUNCTION_WORDS)
            if unknown or (kind in CHECKED_KINDS and optional and unsaid):
                dropped.append(f"{call.name}.{key}={value!r}")
            else:
                arguments[key] = value
        kept.append(Call(call.name, arguments))
    return kept, dropped


@functools.cache
def choices(request: type) -> dict[str, list[str]]:
    """{argument: its allowed values} for a request model's arguments with a fixed set of values
    (computed once per model: this runs on every reply that calls a tool)."""
    found = {}
    for name, prop in request.model_json_schema().get("properties", {}).items():
        for option in [prop, *prop.get("anyOf", [])]:
            if "enum" in option:
                found[name] = [v for v in option["enum"] if v is not None]
    return found


def _invalid_fields(spec: ToolSpec, arguments: dict) -> set[str]:
    try:
        spec.request.model_validate(arguments)
    except ValidationError as error:
        return {str(e["loc"][0]) for e in error.errors() if e["loc"]}
    return set()


def repair_choices(
    calls: list[Call], specs: Sequence[ToolSpec]
) -> tuple[list[Call], list[str], list[str]]:
    """(calls, mended, dropped): values outside an argument's choices keep the choices named
    inside them (on whichever argument offers them); one naming none is dropped if optional."""
    by_name = {spec.name: spec for spec in specs}
    mended, notes, dropped = [], [], []
    for call in calls:
        spec = by_name.get(call.name)
        if spec is None:
            mended.append(call)
            continue
        options = choices(spec.request)
        bad = _invalid_fields(spec, call.arguments) & set(options)
        arguments = dict(call.arguments)
        for key in sorted(bad):
            value = "_" + re.sub(r"[^a-z0-9]+", "_", str(arguments.pop(key)).lower()) + "_"
            named = {
                field: choice
                for field, values in options.items()
                for choice in values
                if f"_{choice}_" in value and (field == key or field not in arguments)
            }
            if named:
                arguments.update(named)
                notes.append(
                    f"{call.name}.{key}: " + ", ".join(f"{k}={v}" for k, v in named.items())
                )
            elif spec.request.model_fields[key].is_required():
                arguments[key] = call.arguments[key]  # the tool names what is wrong
            else:
                dropped.append(f"{call.name}.{key}={call.arguments[key]!r}")
        mended.append(Call(call.name, arguments))
    return mended, notes, dropped


def choices_said(
    calls: list[Call], turns: Sequence[Turn], specs: Sequence[ToolSpec]
) -> tuple[list[Call], list[str]]:
    """An empty optional argument with fixed choices takes the one choice of several words the
    latest request names ("demand spikes" -> kind=demand_spike, "at risk" -> status=at_risk);
    a one-word choice ("low", "open") is an everyday word, and the model's own value stands."""
    request = latest_request(turns)[0].lower()
    by_name = {spec.name: spec for spec in specs}
    out, notes = [], []
    for call in calls:
        spec = by_name.get(call.name)
        arguments = dict(call.arguments)
        for key, values in (choices(spec.request) if spec else {}).items():
            if key in arguments or spec.request.model_fields[key].is_required():
                continue
            named = [v for v in values if "_" in str(v) and _names_choice(request, str(v))]
            if len(named) == 1:
                arguments[key] = named[0]
                notes.append(f"{call.name}.{key}={named[0]}")
        out.append(Call(call.name, arguments))
    return out, notes


def _names_choice(text: str, choice: str) -> bool:
    """Is ``choice`` ("data_error") written in ``text`` ("data errors", "data-error")?"""
    words = [re.escape(w) for w in choice.split("_")]
    return re.search(r"\b" + r"[\s_-]+".join(words) + r"s?\b", text) is not None


class ArgumentGuard:
    """Wraps any backend: its replies' calls name registered tools, carry only filters the
    conversation mentioned, have each entity slot read from the user's words (with a resolver
    over the workspace) and horizons computed from the request's words."""

    def __init__(self, backend, resolver=None):
        self.backend, self.resolver = backend, resolver

    def __getattr__(self, name):  # name, loaded, generator, ... of the wrapped backend
        return getattr(self.backend, name)

    def respond(self, turns: Sequence[Turn], specs: Sequence[ToolSpec], on_token=None):
        chooses = getattr(self.backend, "chooses_tools", 0)
        named = named_outright(turns, self.resolver) if chooses and self.resolver else None
        # a refusal that may be asked again streams once it stands, not to be taken back
        held = HeldText(on_token) if named and on_token else None
        first = self._checked(self.backend.respond(turns, specs, held or on_token), turns, specs)
        reply = first
        if reply.calls and chooses:
            reply = self._grounded(reply, turns, specs)
            if self.resolver is not None:
                reply = self._choose_again(reply, turns, specs)
        elif named and reply.parse_error is None:
            reply = self._refused(reply, turns, specs, named)
        if held and reply is first:
            held.flush()
        return reply

    def _refused(self, reply, turns: Sequence[Turn], specs: Sequence[ToolSpec], kind: str):
        """A request refused though it names one of the workspace's own SKUs, POs, alerts or
        suppliers outright ("nordic kettle forecast next 2 wks", a product the model never saw
        in training) is asked again with a call required, among the tools that take that kind
        and whose grounds the request gives."""
        fitting = fitting_tools(specs, {kind}, latest_request(turns)[0])
        return self._rechosen(
            reply, turns, specs, fitting, f"refused, though it names a {kind}", must_call=True
        )

    def _checked(self, reply, turns: Sequence[Turn], specs: Sequence[ToolSpec]):
        if reply.calls:
            unguarded = reply.calls
            calls, renamed = repair_names(unguarded, specs)
            calls, dropped = drop_unsaid(calls, turns, specs)
            calls, mended, invalid = repair_choices(calls, specs)
            calls, said = choices_said(calls, turns, specs)
            mended += said
            filled, misplaced, today = [], [], None
            if self.resolver is not None:
                calls, filled, misplaced = fill_slots(calls, turns, specs, self.resolver)
                today = self.resolver.store.today()
            reply.calls, horizons = resolve_settings(calls, turns, specs, today)
            dropped = dropped + invalid + misplaced
            resolved = renamed + mended + filled + horizons
            if dropped or resolved:  # kept so the evaluation can score the model alone too
                reply.stats["dropped_arguments"] = dropped
                reply.stats["resolved_arguments"] = resolved
                reply.stats["unguarded_calls"] = unguarded
        return reply

    def _grounded(self, reply, turns: Sequence[Turn], specs: Sequence[ToolSpec]):
        """A call to a tool whose grounds the request does not give (a what-if that names no
        change: "what are we waiting on from Acme") is chosen again among the other tools. A
        follow-up to a call of the same tool ("and for hamburg?") keeps it."""
        call = reply.calls[0]
        spec = next((s for s in specs if s.name == call.name), None)
        if spec is None or spec.grounds is None:
            return reply
        request, at = latest_request(turns)
        earlier = [c.name for turn in turns[:at] for c in turn.calls]
        if spec.grounds(request) or earlier[-1:] == [call.name]:
            return reply
        others = [s.name for s in specs if s.name != call.name]
        note = f"{call.name}: the request gives it no grounds"
        return self._rechosen(reply, turns, specs, others, note)

    def _choose_again(self, reply, turns: Sequence[Turn], specs: Sequence[ToolSpec]):
        """A call that cannot run because a required slot holds a name of another kind (a
        supplier as the SKU, a site as the SKU), or whose free text is only an entity's code (a
        PO number as the SOP query), is chosen again among the tools that take every kind of
        entity it names; the prompt stays, decoding holds the name to them."""
        by_name = {spec.name: spec for spec in specs}
        call = reply.calls[0]
        spec = by_name.get(call.name)
        resolves = lookups(self.resolver)
        if spec is None:
            return reply
        request = latest_request(turns)[0]
        misfit = misfit_slot(call, spec, resolves)
        if misfit is not None:  # a name of two kinds is of the kind the request says first
            said = [m.kind for m in self.resolver.mentions(request)]
            misfit = misfit_slot(call, spec, resolves, said)
        misfit = misfit or code_as_text(call, spec, self.resolver, turns)
        if misfit is not None:
            named = named_kinds(call, spec, resolves) | {misfit[1]}
            note = f"{call.name}: {misfit[0]}={call.arguments[misfit[0]]!r} names a {misfit[1]}"
        else:
            left_out = codes_left_out(call, spec, request, self.resolver)
            if not left_out:
                return reply  # the common case: every slot fits, every code has its slot
            named = named_kinds(call, spec, resolves) | left_out
            note = f"{call.name}: takes no {', '.join(sorted(left_out))} the request names by code"
        fitting = fitting_tools(specs, named, request, but=call.name)
        return self._rechosen(reply, turns, specs, fitting, note)

    def _rechosen(self, reply, turns, specs, fitting: list[str], note: str, must_call=False):
        """The reply again with the same prompt, its call's name held to ``fitting`` (and
        required, with ``must_call``); the first reply stands when that gives no call to one of
        them."""
        if not fitting:
            return reply
        held = {"choose_from": fitting} | ({"must_call": True} if must_call else {})
        again = self.backend.respond(turns, specs, None, **held)
        if not again.calls or again.calls[0].name not in fitting:
            return reply
        again = self._checked(again, turns, specs)
        again.stats["rechosen"] = f"{note}; chose {again.calls[0].name}"
        again.stats["resolved_arguments"] = [
            f"{again.calls[0].name}: chosen again ({note})",
            *again.stats.get("resolved_arguments", []),
        ]
        for key in ("seconds", "prompt_tokens", "completion_tokens"):
            if isinstance(reply.stats.get(key), int | float):
                again.stats[key] = again.stats.get(key, 0) + reply.stats[key]
        return again


def misfit_slot(
    call: Call, spec: ToolSpec, resolves, said: Sequence[str] = ()
) -> tuple[str, str] | None:
    """(argument, kind it names instead) for a required entity slot holding another kind's
    name ('Adler Electronics' as the SKU); None when every required slot fits. A name that
    could be of several kinds ('garden': a category, and a word of a supplier's name) is of
    the kind the request mentions (``said``) first. ``resolves``: ``slots.lookups``."""
    fields = spec.request.model_fields
    for name, value in call.arguments.items():
        kind = entity_kind(spec.request, name)
        if kind not in MOVABLE or name not in fields or not fields[name].is_required():
            continue
        if value in (None, "") or resolves(kind, value) is not None:
            continue
        kinds = [*dict.fromkeys([*said, *MOVABLE])]
        other = next(
            (k for k in kinds if k in MOVABLE and k != kind and resolves(k, value) is not None),
            None,
        )
        if other is not None:
            return name, other
    return None


def code_as_text(
    call: Call, spec: ToolSpec, resolver, turns: Sequence[Turn] = ()
) -> tuple[str, str] | None:
    """(argument, kind) for a required free-text slot that holds nothing but one entity's name
    or code, or nothing but a reference to a row of the latest result: ``search_sops(query=
    "PO-4113")`` for "prepare an escalation for PO-4113" searches the procedures for a PO number
    they never contain, and ``query="the second one"`` after a list of alerts for a row; the
    entity is for a tool that takes one."""
    fields = spec.request.model_fields
    for name, value in call.arguments.items():
        if entity_kind(spec.request, name) != "text" or not fields[name].is_required():
            continue
        text = str(value).strip()
        if text and refers_only(text):
            kind = row_kind(turns, resolver)
            return (name, kind) if kind else None
        found = resolver.mentions(text) if text else []
        if (
            len(found) == 1
            and not found[0].ambiguous
            and found[0].end - found[0].start == len(text)
        ):
            return name, found[0].kind
    return None


class HeldText:
    """Streams a reply that opens with a call as it comes (the UI names the tool at once) and
    holds free text until ``flush``: a refusal asked again is never shown."""

    def __init__(self, on_token):
        self.on_token, self.pieces, self.live = on_token, [], False

    def __call__(self, piece: str) -> None:
        self.pieces.append(piece)
        text = "".join(self.pieces).lstrip()
        if self.live or text.startswith(CALL_OPEN):
            self.live = True
            self.flush()

    def flush(self) -> None:
        for piece in self.pieces:
            self.on_token(piece)
        self.pieces = []


OUTRIGHT = ("sku", "po", "alert", "supplier")  # kinds whose names are no everyday words


def named_outright(turns: Sequence[Turn], resolver) -> str | None:
    """The kind of the one workspace entity the user's latest request names unambiguously,
    when the request is the latest turn: a SKU by code or by a name that is one product's, a
    PO, an alert, a supplier. Sites and categories are everyday words ("the weather in
    hamburg", "garden party ideas"), and a word shared by several products names none."""
    if not turns or turns[-1].role != "user":
        return None
    kinds = {
        m.kind
        for m in resolver.mentions(turns[-1].content)
        if m.kind in OUTRIGHT and not m.ambiguous
    }
    return kinds.pop() if len(kinds) == 1 else None


def codes_left_out(call: Call, spec: ToolSpec, request: str, resolver) -> set[str]:
    """Kinds of the codes ``request`` writes when the tool takes none of them and no argument
    holds them: "will the inbound PO arrive before SKU-00112 runs dry" answered with every
    open PO leaves the SKU unread. A code is a number with at most one word ("SKU-00112",
    "po 4179", "A-5"); a product's name is none, digits and all ("Tennis Balls 4-Pack"). A code
    is read only by a slot of its own kind or by free text: "PO-4241" as the SKU is not."""
    codes = {}  # kind -> the codes of that kind as written
    for m in resolver.mentions(request):
        text = request[m.start : m.end].lower()
        if m.kind in CODED and len(re.findall(r"[a-z]+", text)) <= 1 and re.search(r"\d", text):
            codes.setdefault(m.kind, []).append(text)

    def holds(kind: str) -> str:
        return " ".join(
            str(v).lower()
            for name, v in call.arguments.items()
            if entity_kind(spec.request, name) in (kind, "text")
        )

    own = kinds_taken(spec)
    read = any(code in holds(kind) for kind, written in codes.items() for code in written)
    return set(codes) if codes and not set(codes) & own and not read else set()


def fitting_tools(
    specs: Sequence[ToolSpec], kinds: set[str], request: str, but: str = ""
) -> list[str]:
    """Names of the tools (other than ``but``) that take every kind in ``kinds`` and whose
    grounds ``request`` gives: where a second try may go."""
    return [
        s.name
        for s in specs
        if s.name != but and takes(s, kinds) and (s.grounds is None or s.grounds(request))
    ]


def named_kinds(call: Call, spec: ToolSpec, resolves) -> set[str]:
    """Kinds of entity the call's values name as they stand (a SKU in the SKU slot)."""
    kinds = set()
    for name, value in call.arguments.items():
        kind = entity_kind(spec.request, name)
        if kind in MOVABLE and resolves(kind, value) is not None:
            kinds.add(kind)
    return kinds


def kinds_taken(spec: ToolSpec) -> set[str]:
    """Kinds of the tool's arguments (None for those of no kind)."""
    return {entity_kind(spec.request, name) for name in spec.request.model_fields}


def takes(spec: ToolSpec, kinds: set[str]) -> bool:
    """Does the tool take an argument of every kind in ``kinds``, and require no entity of
    another kind?"""
    request = spec.request
    own = kinds_taken(spec)
    required = {
        entity_kind(request, name)
        for name, info in request.model_fields.items()
        if info.is_required() and entity_kind(request, name) in MOVABLE
    }
    return kinds <= own and required <= kinds
