"""Property tests over every registered tool's request model: whatever a model or a user sends
as arguments, validation either gives a request with finite, bounded numbers or a ToolError
that names the tool; never another exception (a traceback)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.registry import MAX_NUMBER, ToolError, _takes_number, load_tools, validate_arguments

SPECS = load_tools()
NAMES = sorted(SPECS)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["Infinity", "-inf", "NaN", "1e18", "true", "7", " 7 ", "", "\x00", "a\x1bb"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)  # fmt: skip


@st.composite
def arguments(draw, name: str):
    fields = list(SPECS[name].request.model_fields)
    key = (st.sampled_from(fields) | st.text(max_size=8)) if fields else st.text(max_size=8)
    keys = draw(st.lists(key, max_size=len(fields) + 2))
    return {key: draw(values) for key in keys}


@pytest.mark.parametrize("name", NAMES)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_argument_gives_a_traceback(name, data):
    args = data.draw(arguments(name))
    try:
        request = validate_arguments(name, args)
    except ToolError as error:
        assert str(error).startswith(f"{name}: ")
        return
    for field, info in type(request).model_fields.items():
        value = getattr(request, field)
        if _takes_number(info.annotation) and isinstance(value, int | float):
            assert not isinstance(value, bool) or info.annotation is bool
            assert math.isfinite(value) and abs(value) <= MAX_NUMBER, (field, value)


@pytest.mark.parametrize("name", NAMES)
def test_booleans_infinities_and_huge_numbers_are_refused_for_every_numeric_argument(name):
    request = SPECS[name].request
    numeric = [f for f, info in request.model_fields.items() if _takes_number(info.annotation)]
    for field in numeric:
        for bad in (True, False, math.inf, "Infinity", float("nan"), 1e18, "1e18"):
            with pytest.raises(ToolError, match=field):
                validate_arguments(name, {field: bad})


def test_the_issue_reproductions_are_refused_with_the_argument_named():
    with pytest.raises(ToolError, match="capacity_kg"):
        validate_arguments("plan_routes", {"capacity_kg": "Infinity"})
    with pytest.raises(ToolError, match="capacity_kg"):
        validate_arguments("plan_routes", {"capacity_kg": 1e18})
    with pytest.raises(ToolError, match="horizon_days: .*not true/false"):
        validate_arguments("stockout_risk", {"horizon_days": True})
