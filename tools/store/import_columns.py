"""What each importable table takes, for people: its columns with their type, whether they are
required, the range or values they take and the other header spellings accepted; and a CSV
template per table. The UI's Data tab and docs/import.md show these."""

from __future__ import annotations

from dataclasses import dataclass

from tools.store.db import Store
from tools.store.import_read import SYNONYMS
from tools.store.import_values import CODE_COLUMNS, WHOLE_RANGES, kind_of
from tools.store.importer import RULES, TABLES, _columns, _unknown_table


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an importable table, as the UI and docs/import.md list it."""

    name: str
    type: str  # 'text', 'code', 'whole number', 'number', 'date'
    required: bool
    key: bool
    rule: str  # the range or values it takes, '' when any value of its type is fine
    headers: tuple[str, ...]  # other header spellings accepted for it


def expected_columns(table: str | None = None) -> dict[str, list[ColumnSpec]]:
    """Each importable table's columns (or one table's), read from the live schema."""
    tables = [table] if table else list(TABLES)
    if table is not None and table not in RULES:
        raise ValueError(_unknown_table(table))
    store = Store()
    try:
        return {t: [_spec(t, c, *info) for c, info in _columns(store, t).items()] for t in tables}
    finally:
        store.close()


def template_csv(table: str) -> str:
    """A CSV template for ``table``: the header line (required columns first) and nothing else."""
    specs = expected_columns(table)[table]
    ordered = [s.name for s in specs if s.required] + [s.name for s in specs if not s.required]
    return ",".join(ordered) + "\n"


def _spec(table: str, column: str, sql_type: str, required: bool) -> ColumnSpec:
    rule = RULES[table]
    kind = kind_of(sql_type)
    label = {"whole": "whole number", "number": "number", "date": "date", "text": "text"}[kind]
    if column in CODE_COLUMNS:
        label = "code"
    limits = []
    if column in rule.minimum:
        limits.append(f">= {rule.minimum[column]:g}")
    if column in rule.positive:
        limits.append("> 0")
    if column in rule.maximum:
        limits.append(f"<= {rule.maximum[column]:g}")
    if column in rule.choices:
        limits.append("one of " + ", ".join(rule.choices[column]))
    if column in rule.references:
        limits.append(f"a {rule.references[column]} key")
    if kind == "whole":
        limits.append(f"at most {WHOLE_RANGES[sql_type.upper()][1]:,}")
    if column == "contact_email":
        limits.append("one e-mail address")
    return ColumnSpec(
        column, label, required, column in rule.key, "; ".join(limits), SYNONYMS.get(column, ())
    )


def columns_markdown(table: str) -> str:
    """One table's columns as a Markdown table (docs/import.md, the Data tab)."""
    lines = [
        "| column | type | required | takes | other headers accepted |",
        "|---|---|---|---|---|",
    ]
    for c in expected_columns(table)[table]:
        required = "key" if c.key else ("yes" if c.required else "")
        lines.append(f"| `{c.name}` | {c.type} | {required} | {c.rule} | {', '.join(c.headers)} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m tools.store.import_columns: the tables of docs/import.md
    for name in TABLES:
        print(
            f"### {name}\n\nTemplate: `{template_csv(name).strip()}`\n\n{columns_markdown(name)}\n"
        )
