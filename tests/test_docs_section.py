"""benchmarks/docs_section.py: a benchmark rewrites only the text it generated."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from docs_section import BEGIN, END, append_to_section, write_section  # noqa: E402

DOC = """# Benchmarks

## Latency

{begin}
| job | s |
| a | 1.0 |
{end}

Reading: written by a person, kept across runs.

## Next

untouched
"""


def test_only_the_generated_block_is_replaced_and_the_reading_is_kept(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(DOC.format(begin=BEGIN, end=END))
    write_section("## Latency", "## Latency\n\n| job | s |\n| a | 2.0 |\n", path)
    doc = path.read_text()
    assert "| a | 2.0 |" in doc and "| a | 1.0 |" not in doc
    assert "Reading: written by a person, kept across runs." in doc
    assert doc.endswith("## Next\n\nuntouched\n")
    assert doc.count(BEGIN) == 1 and doc.count(END) == 1


def test_a_section_without_markers_is_replaced_whole_and_gets_them(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Latency\n\nold table\n\n## Next\n\nuntouched\n")
    write_section("## Latency", "## Latency\n\nnew table\n", path)
    doc = path.read_text()
    assert "old table" not in doc
    assert f"## Latency\n\n{BEGIN}\nnew table\n{END}\n" in doc
    assert doc.endswith("## Next\n\nuntouched\n")
    # the second run finds the markers and keeps what was added after them
    path.write_text(doc.replace(f"{END}\n", f"{END}\n\nmy reading\n"))
    write_section("## Latency", "## Latency\n\nnewer table\n", path)
    doc = path.read_text()
    assert "newer table" in doc and "new table\n" not in doc and "my reading" in doc


def test_a_missing_section_is_appended(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n")
    write_section("## New", "## New\n\ntable\n", path)
    assert path.read_text() == f"# Benchmarks\n\n## New\n\n{BEGIN}\ntable\n{END}\n"


def test_a_history_section_keeps_every_run_and_has_no_generated_block(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n")
    append_to_section("## UI", "intro", "run 1", path)
    append_to_section("## UI", "intro", "run 2", path)
    assert path.read_text() == "# Benchmarks\n\n## UI\n\nintro\n\nrun 1\n\nrun 2\n"
