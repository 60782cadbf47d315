"""Typing and checking the text cells of an import, column by column: numbers against their
column type's range, dates without a time of day or zone, text without control characters and
within its length, codes upper-cased, e-mail fields holding one plain address. Each refused
cell is reported through ``refuse`` and becomes NA, so later checks do not report it twice."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

from tools.text import clip

CODE_COLUMNS = ("sku", "supplier_id", "location_id", "po_number", "promo_id", "order_id", "customer_id")  # fmt: skip
MAX_CODE_CHARS = 64
MAX_TEXT_CHARS = 500  # a product name, an address: a 20 MB name is a broken export
MAX_MAGNITUDE = 1e12  # no price, weight or quantity is larger; keeps sums finite downstream
WHOLE_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "HUGEINT": (-(2**63), 2**63 - 1),  # read through float: beyond this it is not exact
}
YEARS = (1900, 2200)
QUANTITY_COLUMNS = {"units", "on_hand", "allocated", "qty", "qty_ordered", "qty_received"}
# Control characters (tab and newline too: no name or code holds them) and bidi overrides.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")  # fmt: skip
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?"
)


class UnsafeEmailError(ValueError):
    """An e-mail field that is not exactly one plain address (the message says why)."""


def email_address(value: object) -> str:
    """Exactly one plain address ('name@example.com'), stripped. A line break (which could add
    a 'Bcc:' header to a draft), two addresses, a display name or a control character raises
    ``UnsafeEmailError``. The importer checks every e-mail field with it; a draft builder
    checks the address again before it writes a header."""
    if not isinstance(value, str):
        raise UnsafeEmailError(f"not an e-mail address: {value!r}")
    text = value.strip()
    if re.search(r"[\r\n]", text):
        raise UnsafeEmailError("holds a line break (it could add mail headers); give one address")
    if _CONTROL.search(text) or any(unicodedata.category(c) == "Cf" for c in text):
        raise UnsafeEmailError("holds a control character; give one plain address")
    if re.search(r"[,;\s<>]", text):
        raise UnsafeEmailError("holds more than one address, a name or a space; give one address")
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise UnsafeEmailError(f"not an e-mail address: '{text[:80]}'")
    return text


def kind_of(sql_type: str) -> str:
    kind = sql_type.upper()
    if kind in WHOLE_RANGES:
        return "whole"
    if kind in {"DOUBLE", "FLOAT", "REAL"} or kind.startswith("DECIMAL"):
        return "number"
    if kind == "DATE":
        return "date"
    return "text"


def convert(
    text: pd.Series,
    sql_type: str,
    column: str,
    rows: np.ndarray,
    required: bool,
    problem: Callable[[int, str], None],
) -> pd.Series:
    """``text`` (str or None per cell) as the column's type; ``problem(row, message)`` is
    called for every refused cell."""
    present = text.notna().to_numpy()
    if required:
        for r in rows[~present]:
            problem(int(r), "missing value (required)")

    def refuse(mask, message) -> None:
        for r, v in zip(rows[mask], text[mask], strict=True):
            problem(int(r), message(v))

    kind = kind_of(sql_type)
    if kind in {"whole", "number"}:
        numbers = pd.to_numeric(text, errors="coerce").astype(float).to_numpy()
        finite = np.isfinite(numbers)
        if kind == "whole":
            low, high = WHOLE_RANGES[sql_type.upper()]
            whole = finite & (np.round(numbers) == numbers)
            refuse(present & ~whole, lambda v: f"not a whole number: '{_short(v)}'")
            over = whole & ((numbers < low) | (numbers > high))
            refuse(present & over, lambda v: f"out of range: {_short(v)} (at most {high:,})")
            ok = present & whole & ~over
            return pd.Series(np.where(ok, numbers, 0), dtype="Int64").where(ok)
        refuse(present & ~finite, lambda v: f"not a number: '{_short(v)}'")
        over = finite & (np.abs(numbers) > MAX_MAGNITUDE)
        refuse(present & over, lambda v: f"out of range: {_short(v)} (at most {MAX_MAGNITUDE:g})")
        return pd.Series(numbers, dtype="Float64").where(present & finite & ~over)
    if kind == "date":
        return _dates(text, present, refuse)
    return _text(text, column, present, refuse)


def _dates(text: pd.Series, present: np.ndarray, refuse) -> pd.Series:
    """YYYY-MM-DD (or midnight without a zone); a time of day or a zone is refused, not dropped."""
    plain = text.str.fullmatch(_ISO_DAY.pattern, na=False).to_numpy()
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    result[plain] = pd.to_datetime(text[plain], format="%Y-%m-%d", errors="coerce")
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(present & ~plain):
        match = _DATE_TIME.fullmatch(text.iat[i])
        if match is None:
            continue
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        if zone:
            reasons[i] = f"has a time zone ({zone}); give the local date as YYYY-MM-DD"
        elif hour is not None and (int(hour), int(minute), int(second or 0), int(fraction or 0)) != (0, 0, 0, 0):  # fmt: skip
            reasons[i] = (
                f"has a time of day ({int(hour):02d}:{minute}); a date column takes YYYY-MM-DD"
            )
        else:
            result.iat[i] = pd.to_datetime(
                f"{year}-{month}-{day}", format="%Y-%m-%d", errors="coerce"
            )
    # From the text: pandas cannot hold year 9999, which would read as 'not a date'.
    years = pd.to_numeric(text.str.extract(r"^(\d{4})-", expand=False), errors="coerce")
    out_of_range = (present & ((years < YEARS[0]) | (years > YEARS[1]))).to_numpy()
    for i, reason in reasons.items():
        mask = np.zeros(len(text), dtype=bool)
        mask[i] = True
        refuse(mask, lambda v, reason=reason: f"'{_short(v)}' {reason}")
    bad = present & result.isna().to_numpy() & ~out_of_range
    bad[list(reasons)] = False
    refuse(bad, lambda v: f"not a date as YYYY-MM-DD: '{_short(v)}'")
    refuse(out_of_range, lambda v: f"date out of range: '{v}' (years {YEARS[0]}-{YEARS[1]})")
    return result.where(~out_of_range & ~np.isin(np.arange(len(text)), list(reasons)))


def _text(text: pd.Series, column: str, present: np.ndarray, refuse) -> pd.Series:
    """Text as given, codes upper-cased; control characters, over-long cells and unsafe e-mail
    addresses refused (the cell becomes NA so later checks do not report it twice)."""
    code = column in CODE_COLUMNS
    if code:
        text = text.str.upper()
    limit = MAX_CODE_CHARS if code else MAX_TEXT_CHARS
    lengths = np.array([len(v) if isinstance(v, str) else 0 for v in text], dtype=int)
    long = present & (lengths > limit)
    refuse(long, lambda v: f"too long: {len(v):,} characters (the limit is {limit})")
    email = column.endswith("email")  # email_address names line breaks as header injection
    control = (
        present & ~long & (not email) & text.str.contains(_CONTROL.pattern, na=False).to_numpy()
    )
    refuse(control, lambda v: f"holds a control character ({_control_name(v)}); remove it")
    bad = long | control
    if email:
        for i in np.flatnonzero(present & ~bad):
            try:
                email_address(text.iat[i])
            except UnsafeEmailError as error:
                mask = np.zeros(len(text), dtype=bool)
                mask[i] = bad[i] = True
                refuse(mask, lambda v, error=error: f"e-mail address {error}")
    return text.where(~bad)


def _short(value: object, limit: int = 40) -> str:
    return clip(str(value), limit, mark="…")


def _control_name(text: str) -> str:
    found = _CONTROL.search(text)
    char = found.group(0) if found else "?"
    names = {"\x00": "NUL", "\t": "tab", "\n": "line break", "\r": "carriage return", "\x1b": "ESC"}
    return (
        f"{names.get(char, f'U+{ord(char):04X}')} at position {found.start() + 1 if found else 0}"
    )
