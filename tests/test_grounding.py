"""Grounding check: invented figures and ids are caught and marked; honest restatements are not."""

from __future__ import annotations

import pytest

from assistant.grounding import MARK, check, extract_claims, mark_unsupported

TOOL = (
    '{"sku":"SKU-00042","po":"PO-1187","on_hand":2437,"daily":[12,15,18],"avg":2.13,'
    '"stockout_probability":0.87,"fill_rate":"96.5%","eta":"2026-12-03","alert":"A-17"}'
)


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("SKU-00042 has 2437 units; 380 more arrive soon.", "380"),
        ("SKU-00043 is at risk.", "SKU-00043"),
        ("SKU-0004 is at risk.", "SKU-0004"),  # a prefix of a real id is not that id
        ("PO-1188 is late.", "PO-1188"),
        ("It arrives on 2026-12-04.", "2026-12-04"),
        ("Alert A-18 explains it.", "A-18"),
        ("The average is 2.2 a day.", "2.2"),  # not a rounding of 2.13
        ("Stock-out probability is 78%.", "78%"),
    ],
)
def test_an_invented_item_is_caught(answer, invented):
    assert check(answer, [TOOL]).unsupported == [invented]


@pytest.mark.parametrize(
    "answer",
    [
        "SKU-00042 sells about 2.1 a day (2.13 exactly, roughly 2).",  # rounding
        "There is an 87% chance of a stock-out (p=0.87).",  # probability as a percentage
        "Fill rate is 96.5%, i.e. 0.965.",
        "On hand: 2,437 units.",  # thousands separator
        "Daily sales were 12, 15 and 18.",  # a compact JSON list is three numbers
        "PO-1187 arrives on 2026-12-03; see alert a-17 for sku-00042.",  # ids in any case
    ],
)
def test_a_faithful_restatement_is_accepted(answer):
    report = check(answer, [TOOL])
    assert report.unsupported == [] and report.claims
    assert report.grounded_share == 1.0


def test_list_ordinals_are_not_claims():
    answer = "Top risks:\n1. SKU-00042 (87%)\n2) PO-1187\n  3. reorder 2437 units"
    assert extract_claims(answer) == [
        ("entity", "SKU-00042"),
        ("number", "87%"),
        ("entity", "PO-1187"),
        ("number", "2437"),
    ]
    assert check(answer, [TOOL]).unsupported == []


def test_the_users_own_words_count_as_a_source():
    assert (
        check(
            "Yes, 500 units of SKU-00099 by 2027-01-15.",
            [TOOL, "can we get 500 SKU-00099 by 2027-01-15?"],
        ).unsupported
        == []
    )


def test_marks_follow_every_unsupported_item_and_nothing_else():
    answer = (
        "1. Order 12.5 cases of SKU-00042 by 2026-12-09.\n2. Then 12 more and 12 again; 2.13 avg."
    )
    report = check(answer, [TOOL])

    assert report.unsupported == ["12.5", "2026-12-09"]
    assert mark_unsupported(answer, report) == (
        f"1. Order 12.5{MARK} cases of SKU-00042 by 2026-12-09{MARK}.\n2. Then 12 more and 12 again; 2.13 avg."
    )
    assert report.grounded_share == pytest.approx(1 - 2 / 6)


def test_a_number_is_never_marked_inside_a_longer_one():
    answer = "Ship 12.75 kg today and 12 kg tomorrow."
    report = check(answer, ["12.75"])
    assert report.unsupported == ["12"]  # 12.75 rounds to 13, not 12
    assert mark_unsupported(answer, report) == f"Ship 12.75 kg today and 12{MARK} kg tomorrow."


def test_an_answer_without_figures_is_fully_grounded():
    report = check("I could not find that.", [])
    assert (report.claims, report.unsupported, report.grounded_share) == ([], [], 1.0)
