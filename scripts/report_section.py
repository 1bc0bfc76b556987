"""One script's own section of docs/BENCHMARKS.md, replaced in place between its markers."""

from __future__ import annotations

from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def write_section(name: str, lines: list[str]) -> None:
    """Put `lines` between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in the report,
    replacing what was there (or appended at its end)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = "\n".join([begin, *lines, end])
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    if begin in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text, encoding="utf-8")
