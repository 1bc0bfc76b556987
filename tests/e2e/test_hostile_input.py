"""Hostile input: odd sizes, markup, metacharacters, impossible dates, escaping paths."""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger.cli.app import app as cli_app
from tests.conftest import Cli, stored_events
from tests.editions import SEPTEMBER, SEPTEMBER_EVENTS

NASTY = "Robert'); DROP TABLE ledger_events;-- $(rm -rf /) `reboot` \"; <script>x</script>"


def stored(cli: Cli) -> int:
    return stored_events(cli.db)


def plan(cli: Cli) -> None:
    cli("new-plan", "cgip-2018", "--title", "Plan")
    cli("add-theme", "1", "Political Leadership")
    cli("add-item", "1.1", "--theme", "1", "--aim", "Stable groups")


def test_metacharacters_in_names_and_notes_are_kept_as_text(cli: Cli) -> None:
    """SQL and shell metacharacters are stored verbatim and shown as written; nothing runs."""
    plan(cli)
    cli("lead", "1.1", NASTY, "--note", NASTY, "--by", NASTY)
    row = json.loads(cli("history", "1.1", "--format", "json"))[-1]
    assert (row["after"], row["note"], row["by"]) == (NASTY, NASTY, NASTY)
    assert stored(cli) == 7  # the events table is still there, with every event


def test_a_50_mb_document_is_refused_without_reading_it_into_the_ledger(
    cli: Cli, tmp_path: Path,
) -> None:
    """Past the 20 MB limit: one line, exit 2, nothing written."""
    big = tmp_path / "huge.md"
    with big.open("wb") as handle:
        handle.write(b"| 1.1 | a | b | c | d |\n" * (50 * 1024 * 1024 // 24))
    before = stored(cli)
    err = cli("import", str(big), code=2)
    assert "huge.md: the file is" in err
    assert "at most 20,971,520" in err
    assert stored(cli) == before


def test_deeply_nested_markup_is_read_without_a_recursion_error(
    cli: Cli, tmp_path: Path,
) -> None:
    """100,000 nested bold tags in a cell: no recursion error, no traceback; the edition's
    events are all recorded, the nested text kept in the item's aim."""
    text = SEPTEMBER.read_text(encoding="utf-8")
    nested = "<b>" * 100_000 + "deep" + "</b>" * 100_000
    path = tmp_path / "nested.md"
    path.write_text(text.replace("Well-organised, stable", nested + " Well-organised, stable", 1),
                    encoding="utf-8")
    out = cli("import", str(path))
    assert f"plan cgip-2018: recorded {SEPTEMBER_EVENTS} events" in out
    aim = json.loads(cli("history", "1.1", "--format", "json"))[0]["after"]
    assert "deep" in aim


def test_an_export_outside_the_permitted_directory_is_refused(cli: Cli, tmp_path: Path) -> None:
    """With LEDGER_EXPORT_ROOT set, `..` cannot lead the pack out of it."""
    plan(cli)
    root = tmp_path / "exports"
    root.mkdir()
    env = {"LEDGER_EXPORT_ROOT": str(root)}
    err = cli("export", "--out", str(root / ".." / "elsewhere"), "--no-pdf", code=2, env=env)
    assert "outside the permitted export directory" in err
    assert not (tmp_path / "elsewhere").exists()
    cli("export", "--out", str(root / "pack"), "--no-pdf", env=env)
    assert (root / "pack" / "manifest.json").exists()


def test_a_corrected_update_is_marked_in_the_exported_events(cli: Cli, tmp_path: Path) -> None:
    """The original and its correction are both in the pack's events; the original names it."""
    plan(cli)
    cli("update", "1.1", "Survey planed", "--month", "2018-08", "--effective", "2018-08-31")
    cli("correct", "1.1@2", "--text", "Survey planned", "--note", "typo")
    cli("export", "--out", str(tmp_path / "pack"), "--no-pdf")
    with (tmp_path / "pack" / "events.csv").open(encoding="utf-8-sig", newline="") as handle:
        events = list(csv.DictReader(handle))
    original = next(e for e in events if e["kind"] == "update_recorded")
    assert original["after"] == "[2018-08] Survey planed"
    assert original["corrected_by"] == "1.1@3"
    assert events[-1]["kind"] == "correction"


WORDS = st.text(alphabet=string.printable + "–é£😀\x00", max_size=30)
COMMANDS = st.sampled_from([
    ("status", "ITEM", "WORD"), ("update", "ITEM", "WORD", "--month", "WORD"),
    ("lead", "ITEM", "WORD"), ("target", "ITEM", "WORD", "WORD"),
    ("complete", "ITEM", "--month", "WORD"), ("add-outcome", "ITEM", "WORD", "--due", "WORD"),
    ("correct", "WORD", "--note", "WORD", "--rag", "WORD"), ("history", "WORD"),
    ("update", "ITEM", "x", "--effective", "WORD"), ("plan", "--as-of", "WORD"),
    ("changes", "--known-at", "WORD"), ("snapshots", "--from", "WORD"),
])


@settings(max_examples=120, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=COMMANDS, words=st.lists(WORDS, min_size=4, max_size=4),
       item=st.sampled_from(["1.1", "9.9", "1.1@1", "", "x"]))
def test_any_arguments_give_an_answer_or_a_clear_error_never_a_traceback(
    sqlite_url: str, command: tuple[str, ...], words: list[str], item: str,
) -> None:
    """Random words in every argument: exit 0, 2 or 3, and never an unhandled exception."""
    runner = CliRunner()
    if not Path(sqlite_url.removeprefix("sqlite:///")).exists():
        setup = Cli(sqlite_url)
        setup("init")
        plan(setup)
    supply = iter(words)
    args = [item if part == "ITEM" else next(supply) if part == "WORD" else part
            for part in command]
    result = runner.invoke(cli_app, ["--db", sqlite_url, *args], env={"LEDGER_ACTOR": "fuzz"})
    assert result.exit_code in (0, 2, 3), (args, result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, repr(result.exception))
    assert "Traceback" not in result.stderr
