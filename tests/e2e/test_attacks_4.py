"""Attack round 4: the item history's patches, orjson's reading, CSV escapes, cell widths and
the Core write path.

Each attack is a test of what the README promises. One still open would be marked
`xfail(strict=True, reason="finding N")`. Finding fixed in this round: 1, an item-history row
whose patch no derivation writes (a `slips` patch naming an outcome the item never had, a first
`row_patch` that is not the whole row, not an object, not JSON) made the as-of query folding it
(`plan`, `slippage`, `snapshots`) end in a traceback (KeyError); it now says in one line (exit
1) to run `ledger verify`, which names the row. Every other attack here is held: a record."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import JSONTranscoder, Transcoder

from ledger.store.app import LedgerApp
from tests.conftest import Cli, Prepared, csv_text, stored_events
from tests.editions import SEPTEMBER, write_november, write_october
from tests.integrity.attack import execute, scalar

PLAN = "cgip-2018"
LEDGER = Path(sys.executable).parent / "ledger"
ENV = {**os.environ, "LEDGER_ACTOR": "tester", "COLUMNS": "100"}
MID = "2018-08-31"  # a month end inside the September edition's history (July to September)


def september(cli: Cli) -> None:
    """`ledger init`, the September 2018 edition, read models caught up."""
    cli("init")
    cli("import", str(SEPTEMBER), "--by", "improvement.team")
    cli("projections", "run", "--until-caught-up")


@pytest.fixture
def ledger(backend: str, prepared: Prepared, tmp_path: Path) -> Iterator[Cli]:
    """A copy of the `september` ledger on each backend."""
    with prepared.copy(september, backend, tmp_path) as runner:
        yield runner


def run(db: str, *args: str, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    """The real `ledger` process on `db`."""
    return subprocess.run([str(LEDGER), "--db", db, *args], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, check=False, timeout=600)


def tampered(db: str, named: str) -> None:
    """`ledger verify` exits 1 naming `named`, no traceback."""
    done = run(db, "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert named in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def plan_json(db: str, *args: str) -> list[dict[str, object]]:
    done = run(db, "--plan", PLAN, "plan", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def first_row(db: str, item: str) -> str:
    """The valid_from of the item's first history row."""
    return str(scalar(db, "SELECT min(valid_from) FROM proj_item_history WHERE plan = :p AND "
                          "item = :i", {"p": PLAN, "i": item}))


# --- 1. the item history's patches, edited ---------------------------------------------------

AIM = "Forged aim: nothing to improve"


def test_a_forged_first_patch_shows_as_of_and_verify_names_it(ledger: Cli) -> None:
    """The owner rewrites item 1.1's first history row (its whole row) with another aim: the
    current plan (read from `proj_items`) still shows the document's aim, `plan --as-of` a
    date in the item's history shows the forgery (the as-of fold reads the patches), and
    `ledger verify` names proj_item_history's row_patch (exit 1)."""
    start = first_row(ledger.db, "1.1")
    row = str(scalar(ledger.db, "SELECT row_patch FROM proj_item_history WHERE plan = :p AND "
                                "item = '1.1' AND valid_from = :v", {"p": PLAN, "v": start}))
    record = json.loads(row)
    true_aim = record["aim"]
    record["aim"] = AIM
    execute(ledger.db, "UPDATE proj_item_history SET row_patch = :r WHERE plan = :p AND "
            "item = '1.1' AND valid_from = :v",
            {"r": json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
             "p": PLAN, "v": start})
    [now] = plan_json(ledger.db, "--item", "1.1")
    assert now["aim"] == true_aim
    [then] = plan_json(ledger.db, "--item", "1.1", "--as-of", start)
    assert then["aim"] == AIM  # what a forged read model shows until verify is run
    tampered(ledger.db, "proj_item_history (plan=cgip-2018, item=1.1, valid_from=")
    tampered(ledger.db, "column row_patch says")


def test_an_inserted_history_row_between_two_dates_is_named(ledger: Cli) -> None:
    """A history row the owner inserts for item 1.1 on a date between two of its rows, with
    the patch `{"rag": "red"}`, makes `plan --as-of` that date say red, and `ledger verify`
    says it is a row the events do not give (exit 1)."""
    start = date.fromisoformat(first_row(ledger.db, "1.1"))
    later = scalar(ledger.db, "SELECT min(valid_from) FROM proj_item_history WHERE plan = :p "
                              "AND item = '1.1' AND valid_from > :v",
                   {"p": PLAN, "v": start.isoformat()})
    forged = start + timedelta(days=1)
    assert later is None or forged.isoformat() < later
    execute(ledger.db, "INSERT INTO proj_item_history (plan, item, valid_from, valid_to, "
            "row_patch, slips, month_updates) VALUES (:p, '1.1', :v, :t, :r, NULL, '{}')",
            {"p": PLAN, "v": forged.isoformat(), "t": later, "r": '{"rag":"red"}'})
    [then] = plan_json(ledger.db, "--item", "1.1", "--as-of", forged.isoformat())
    assert then["rag"] == "red"  # what a forged read model shows until verify is run
    tampered(ledger.db, "a row the events do not give")


@pytest.mark.parametrize(("column", "value", "query"), [
    ("slips", '{"99":{"current_due":"2030-01"}}', "slippage"),  # an outcome that never was
    ("slips", '{"1":7}', "slippage"),
    ("row_patch", '{"rag":"red"}', "plan"),  # a first row that is not whole
    ("row_patch", '["aim"]', "plan"),
    ("row_patch", "not json", "snapshots"),
    ("row_patch", '{}', "snapshots"),
])
def test_a_patch_no_derivation_writes_is_one_line(ledger: Cli, column: str, value: str,
                                                   query: str) -> None:
    """Finding 1 (fixed): item 1.1's first history row given a patch no derivation writes (a
    `slips` patch naming outcome 99, which the item never had, with only a changed target;
    an outcome's row that is a number; a first `row_patch` that is not the whole row, a
    list, not JSON, empty): the as-of query that folds it (`slippage`, `plan`, `snapshots`)
    exits 1 with one line saying to run `ledger verify` (it ended in a KeyError traceback),
    and `ledger verify` names the column (exit 1)."""
    start = first_row(ledger.db, "1.1")
    execute(ledger.db, f"UPDATE proj_item_history SET {column} = :s WHERE plan = :p AND "
            "item = '1.1' AND valid_from = :v", {"s": value, "p": PLAN, "v": start})
    asked = ("--as-of", start) if query != "snapshots" else ("--to", start[:7])
    done = run(ledger.db, "--plan", PLAN, query, *asked, "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "item 1.1" in done.stderr, done.stderr
    assert "run `ledger verify`" in done.stderr, done.stderr
    tampered(ledger.db, f"column {column} says")


def test_reordered_valid_from_is_named(ledger: Cli) -> None:
    """The owner moves item 1.1's first history row to after its last (valid_from
    2099-12-31): `ledger verify` names the item history (exit 1)."""
    start = first_row(ledger.db, "1.1")
    execute(ledger.db, "UPDATE proj_item_history SET valid_from = '2099-12-31' WHERE "
            "plan = :p AND item = '1.1' AND valid_from = :v", {"p": PLAN, "v": start})
    tampered(ledger.db, "proj_item_history")


# --- 2. orjson reads what json reads ---------------------------------------------------------


@pytest.mark.parametrize("text", [
    b'{"a":"tab\there"}',  # a raw control character inside a string: json refuses it
    b'{"a":"nl\nhere"}',
    b'{"a":1,"a":2}',  # a key twice: json keeps the last
    b'{"a":"\\ud800"}',  # a lone surrogate escape
    b'{"a":1e400}',
    b'{"a":NaN}',
    b'\xef\xbb\xbf{"a":1}',  # a byte-order mark
    b'{"a":18446744073709551616}',
    b'{"a":-9223372036854775809}',
    b'{"a": [1, {"_type_": "date_iso", "_data_": "2018-09-30"}]}',
    b'{"a":"\xed\xa0\x80"}',  # a surrogate encoded in UTF-8 (json's surrogatepass)
    b'  {"a":1}  \n',
    b'{"a":1}x',
    b'{"a":-0}',
    b'{"a":"\x7f"}',
])
def test_orjson_decoding_gives_what_json_gives(text: bytes) -> None:
    """The store's `OrjsonTranscoder.decode` gives, for any stored bytes, what the library's
    `json` transcoder gives: the same value, or the same refusal."""
    def outcome(transcoder: Transcoder) -> tuple[str, object]:
        try:
            return "value", transcoder.decode(text)
        except Exception as error:  # the refusal is what is compared
            return "refused", type(error).__name__

    app = LedgerApp.__new__(LedgerApp)
    fast = app.construct_transcoder()
    slow = JSONTranscoder()
    app.register_transcodings(slow)
    assert type(fast).__name__ == "OrjsonTranscoder"
    assert outcome(fast) == outcome(slow)


# --- 3. CSV joined cells and the pack ---------------------------------------------------------

LEADS = ("Smith; Jones", "A 50%3B share", "=HYPERLINK(\"http://x\",\"y\")", "100% lead")


def test_hostile_lead_names_split_back_and_the_pack_agrees(ledger: Cli, tmp_path: Path) -> None:
    """Leads "Smith; Jones", "A 50%3B share", `=HYPERLINK("http://x","y")` and "100% lead" on
    item 1.2: `plan --format csv` gives one leads cell that, split on "; " and unescaped
    (%3B then %25), is the JSON leads list, inert (a leading ' where it starts a formula);
    the pack's plan.csv is the query's CSV byte for byte, and `python3 -I verify_pack.py`
    says intact (exit 3: unsigned)."""
    first, *rest = LEADS
    existing = plan_json(ledger.db, "--item", "1.2")[0]["leads"]
    assert isinstance(existing, list)
    ledger("--plan", PLAN, "lead", "1.2", first, "--replace", existing[0])
    for name in rest:
        ledger("--plan", PLAN, "lead", "1.2", name, "--add")
    leads = plan_json(ledger.db, "--item", "1.2")[0]["leads"]
    assert isinstance(leads, list)
    assert set(LEADS) <= set(leads)
    said = run(ledger.db, "--plan", PLAN, "plan", "--item", "1.2", "--format", "csv").stdout
    rows = list(csv.DictReader(csv_text(said)))
    cell = rows[0]["leads"]
    if cell.startswith("'"):
        assert leads[0].startswith(("=", "+", "-", "@", "\t", "\r", "'"))
        cell = cell[1:]
    assert not cell.startswith(("=", "+", "-", "@"))
    back = [p.replace("%3B", ";").replace("%25", "%") for p in cell.split("; ")]
    assert back == leads
    pack = tmp_path / "pack"
    run(ledger.db, "--plan", PLAN, "export", "--out", str(pack), "--no-pdf").check_returncode()
    full = run(ledger.db, "--plan", PLAN, "plan", "--format", "csv").stdout
    assert (pack / "plan.csv").read_text(encoding="utf-8") == full
    done = subprocess.run([sys.executable, "-I", str(pack / "verify_pack.py"), str(pack)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# --- 4. terminal widths ----------------------------------------------------------------------

NAMES = ("Zoë\u200dBrown", "Ame\u0301lie\u0301\u0301\u0301", "evil\u202egnp.exe",
         "tab\there", "王小明" * 12, "bell\x07ring", "e\u0308" * 60)


def _width(line: str) -> int:
    """Cells a terminal gives a line: 0 for a combining mark, 2 for a wide character."""
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me")
               else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def test_log_lines_with_hostile_names_fit_and_send_no_control(ledger: Cli) -> None:
    """Updates recorded `--by` names with a zero-width joiner, combining marks, a
    right-to-left override, a tab, wide CJK characters and a bell: `ledger log` at
    COLUMNS=100 prints no line wider than 100 cells and no control or format character
    raw (each written as its escape)."""
    for n, name in enumerate(NAMES):
        ledger("--plan", PLAN, "update", "1.2", f"Update {n} by a hostile name",
               "--month", "2018-10", "--by", name, "--attributed-to", name)
    done = run(ledger.db, "--plan", PLAN, "log", "--item", "1.2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) >= len(NAMES)
    for line in lines:
        assert _width(line) <= 100, (line, _width(line))
        assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cf")], repr(line)
    assert any("\\u202e" in line for line in lines)
    assert any("王" in line for line in lines)


# --- 5. concurrent writers on the Core write path -------------------------------------------


@pytest.mark.slow
def test_writers_on_one_item_lose_nothing_on_sqlite(prepared: Prepared, tmp_path: Path) -> None:
    """Four `ledger update` processes on SQLite, three updates each, all on item 1.2 at once:
    each exits 0 (updates retry by themselves), all twelve are stored, and `ledger verify`
    says intact with the read models agreeing."""
    with prepared.copy(september, "sqlite", tmp_path) as cli:
        before = stored_events(cli.db)
        script = " && ".join(
            f"{LEDGER} --db '{cli.db}' --plan {PLAN} update 1.2 'Writer {{w}} note {n}' "
            f"--month 2018-11" for n in range(3))
        writers = [subprocess.Popen(["bash", "-c", script.format(w=w)], env=ENV,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True) for w in range(4)]
        errors = [w.communicate(timeout=600)[1] for w in writers]
        assert [w.returncode for w in writers] == [0] * 4, errors
        assert stored_events(cli.db) == before + 12
        said = run(cli.db, "verify")
        assert said.returncode == 0, said.stderr
        assert "the read models agree" in said.stdout, said.stdout



# --- 6. editions out of order, caught up between imports -------------------------------------

FAR = "2100-01-01T00:00:00+00:00"  # as known at a far moment: folded from the events table
DAYS = ("2018-07-15", "2018-07-31", "2018-08-31", "2018-09-15", "2018-09-30", "2018-10-31",
        "2018-11-15", "2018-11-30")


def test_editions_out_of_order_give_the_patches_the_events_give(db_url: str,
                                                                tmp_path: Path) -> None:
    """The November, September and October editions imported in that order, each followed by
    a query (so the read models catch up between imports, extending or refolding the items'
    patches): `plan`, `slippage` and `snapshots` as of each month end and mid-month day,
    answered from the history's patches, equal the answers folded from the events (`--known-at`
    a far moment), and `ledger verify` says the read models agree."""
    cli = Cli(db_url)
    cli("init")
    for path in (write_november(tmp_path), SEPTEMBER, write_october(tmp_path)):
        cli("import", str(path))
        cli("--plan", PLAN, "plan", "--format", "json")
    for day in DAYS:
        for query in ("plan", "slippage"):
            stored = cli("--plan", PLAN, query, "--as-of", day, "--format", "json")
            folded = cli("--plan", PLAN, query, "--as-of", day, "--known-at", FAR,
                         "--format", "json")
            assert json.loads(stored) == json.loads(folded), (query, day)
    stored = cli("--plan", PLAN, "snapshots", "--format", "json")
    folded = cli("--plan", PLAN, "snapshots", "--known-at", FAR, "--format", "json")
    assert json.loads(stored) == json.loads(folded)
    said = run(db_url, "verify")
    assert said.returncode == 0, said.stderr
    assert "the read models agree" in said.stdout, said.stdout


# --- 7. the latest update kept incrementally -------------------------------------------------


def test_the_latest_update_follows_corrections_of_its_month(ledger: Cli) -> None:
    """Item 1.2 given updates "Alpha" for 2018-10 and "Bravo" for 2018-11: the latest update
    is "Bravo"; "Bravo" corrected to 2018-09, the latest is "Alpha"; "Alpha" retracted, the
    latest is "Bravo" (2018-09, the last in effective order of that month); at each step the
    current plan, `plan --as-of` 2018-12-31 read from the history, and the fold of the events
    (`--known-at` a far moment) say the same, and `ledger verify` says intact."""
    ledger("--plan", PLAN, "update", "1.2", "Alpha", "--month", "2018-10", "--effective",
           "2018-10-20")
    ledger("--plan", PLAN, "update", "1.2", "Bravo", "--month", "2018-11", "--effective",
           "2018-11-20")
    refs = {row["after"].rpartition("] ")[2]: row["ref"] for row in json.loads(ledger(
        "--plan", PLAN, "log", "--item", "1.2", "--format", "json"))}

    def latest() -> str:
        answers = [plan_json(ledger.db, "--item", "1.2", *extra)[0]["latest_update"]
                   for extra in ((), ("--as-of", "2018-12-31"),
                                 ("--as-of", "2018-12-31", "--known-at", FAR))]
        assert answers[0] == answers[1] == answers[2], answers
        assert isinstance(answers[0], dict)
        return f"{answers[0]['text']} {answers[0]['month']}"

    assert latest() == "Bravo 2018-11"
    ledger("--plan", PLAN, "correct", refs["Bravo"], "--month", "2018-09", "--note",
           "Bravo was September's")
    assert latest() == "Alpha 2018-10"
    ledger("--plan", PLAN, "correct", refs["Alpha"], "--note", "Alpha was never reported")
    assert latest() == "Bravo 2018-09"  # the last of 2018-09 in effective order
    said = run(ledger.db, "verify")
    assert said.returncode == 0, said.stderr
    assert "the read models agree" in said.stdout, said.stdout
