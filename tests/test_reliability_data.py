"""Everything from data is data: the escaping functions the API, the UI and the CLI share
(assistant.safe_text), and the e-mail check of the importer and the drafts."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from assistant.chat_cli import ChatPrinter
from assistant.safe_text import (
    UnsafeEmailError,
    code_block,
    code_span,
    email_address,
    escape_markdown,
    markdown_table,
    plain_text,
    unescape_markdown,
)

EVIL = "<img src=x onerror=alert(1)> [click here](http://evil.example) `code`"


def test_markdown_escaping_leaves_no_tag_link_or_code_span_and_round_trips():
    shown = escape_markdown(EVIL)
    assert shown == (
        "\\<img src=x onerror=alert(1)\\> \\[click here\\](http://evil.example) \\`code\\`"
    )
    assert unescape_markdown(shown) == EVIL
    assert escape_markdown("SKU-00042 has 120 units, demand_spike 1.5") == (
        "SKU-00042 has 120 units, demand_spike 1.5"  # plain text stays as it was
    )
    assert escape_markdown("a\x00b\u202ec") == "abc"  # NUL and bidi overrides dropped


def test_tables_code_spans_and_blocks_cannot_be_broken_out_of():
    table = markdown_table(pd.DataFrame([{"name": "a | b\n<b>x</b>", "units": 3}]))
    assert table.splitlines()[2] == "| a \\| b \\<b\\>x\\</b\\> |       3 |"
    assert code_span("x`y``z") == "```x`y``z```"
    block = code_block("To: a@b.de\n```\n<script>")
    assert block.startswith("````text\n") and block.endswith("\n````")


def test_terminal_output_carries_no_escape_sequences():
    assert plain_text("red \x1b[31mALERT\x1b[0m\x1b]0;pwned\x07 ok\r\n") == "red ALERT ok\n"
    out = io.StringIO()
    printer = ChatPrinter(out, show_tools=False)
    printer.token("Supplier \x1b[2J\x1b[HEve Ltd")
    assert out.getvalue() == "Supplier Eve Ltd"


@pytest.mark.parametrize(
    "value, reason",
    [
        ("eve@evil.example\nBcc: attacker@evil.example", "line break"),
        ("eve@evil.example\r\nBcc: x@y.z", "line break"),
        ("a@b.de, c@d.de", "more than one address"),
        ("Eve <eve@evil.example>", "more than one address, a name"),
        ("eve\x00@evil.example", "control character"),
        ("not an address", "more than one address"),
        ("nobody@", "not an e-mail address"),
    ],
)
def test_an_email_field_is_exactly_one_plain_address(value, reason):
    with pytest.raises(UnsafeEmailError, match=reason):
        email_address(value)


def test_a_plain_address_passes_stripped():
    assert email_address("  lukas.jansen@vltava-kitchenware.cz ") == (
        "lukas.jansen@vltava-kitchenware.cz"
    )
