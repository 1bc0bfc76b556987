"""The evidence pack's proof: its derived files computed from its own events, and every check
that the pack is whole (who signed it is `signing`'s question, not this module's).

Pure: the standard library, the domain and the projections' folds, nothing else, so that
`verify_pack.py` can carry this module and run it with a bare `python3 -I`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import stat
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.domain import events as ev
from ledger.domain.chain import (
    GENESIS,
    WITNESS_TIME,
    EventRecord,
    Seal,
    Witness,
    content_hash,
)
from ledger.domain.ids import event_ref, item_id, plan_id
from ledger.domain.state import ItemState, fold
from ledger.domain.values import month_end
from ledger.export import ed25519, files, sheets
from ledger.export.files import Cell
from ledger.export.report import render_report
from projections.change_log import COLUMNS as CHANGE_COLUMNS
from projections.change_log import HIDDEN_KINDS, LATENESS, change_row, lateness
from projections.current_plan import COLUMNS as PLAN_COLUMNS
from projections.current_plan import item_row, item_sort_key
from projections.monthly_snapshots import COLUMNS as SNAPSHOT_COLUMNS
from projections.monthly_snapshots import months_from, snapshot_rows
from projections.slippage_history import COLUMNS as SLIPPAGE_COLUMNS
from projections.slippage_history import outcome_rows

FORMAT = "ledger-evidence-pack/3"  # 3: flat CSVs (ledger.export.flat), workbook.xlsx
EVENTS = "events.jsonl"
CHAIN = "chain.jsonl"
VERIFIER = "verify_pack.py"
DERIVED = ("events.csv", "plan.csv", "snapshots.csv", "slippage.csv", "changes.csv",
           "report.html")
REQUIRED = (EVENTS, CHAIN, *DERIVED, sheets.WORKBOOK, VERIFIER)
OPTIONAL = ("report.pdf", "digest.tsr")
SIGNATURE = ("manifest.json.sig", "signer.pub.pem")
EVENT_COLUMNS = ("position", "chain_hash", "content_hash", "stream", "version", "plan", "item",
                 "kind", "topic", "recorded_at", "db_role", "effective", "basis", "edition",
                 "recorded_by", "attributed_to", "before", "after", "source", "note",
                 "corrected_by")
CHANGES_COLUMNS = (CHANGE_COLUMNS[0], "ref", *CHANGE_COLUMNS[1:], *LATENESS,  # as `changes`
                   "corrected_by")
CSV_RULE = ("cells that would start a formula (=, +, -, @, tab, carriage return) or that start "
            "with ' are prefixed with ' (OWASP); events.jsonl keeps every text as typed")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")  # match() anchors the start, \Z the very end
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\Z")
_PLAIN = re.compile(r"[A-Za-z0-9_.:+-]*\Z")  # text JSON writes as itself between quotes
MANIFEST_KEYS = {"format", "tool", "version", "parameters", "run_at", "run_by",
                 "ledger_digest", "chain_encoding", "csv_cells", "control_totals", "files",
                 "signer_fingerprint", "timestamp", "report_pdf", "workbook"}
PDF_NOTE = ("report.pdf is Chromium's print of report.html: its bytes are bound by the "
            "manifest, but its content is not re-derived from the events (report.html is)")
EARLIEST, LATEST_YEAR = date(1900, 1, 1), 2200  # the domain's own bounds on a date
RAG_WORDS = {"", "red", "amber", "green"}
_HEX_BYTES = b"0123456789abcdef"


class MalformedPack(ValueError):  # noqa: N818 - reads as what the verifier says
    """A pack whose files cannot even be read as a pack (exit 2, not 'tampered')."""


@dataclass(frozen=True)
class Scope:
    """What a pack covers: one plan as of a date, as known at a moment, for all or one theme."""

    plan: str
    as_of: date
    known_at: str | None = None
    theme: str | None = None

    def parameters(self, title: str) -> dict[str, str]:
        """The manifest's parameters (and the report's)."""
        return {"plan": self.plan, "plan_title": title, "as_of": self.as_of.isoformat(),
                "known_at": self.known_at or "now", "theme": self.theme or "all"}

    @classmethod
    def from_parameters(cls, params: object) -> Scope:
        """The scope a manifest's parameters state; MalformedPack where they do not."""
        if not isinstance(params, dict):
            msg = "manifest.json: parameters: not an object"
            raise MalformedPack(msg)
        try:
            plan, as_of = str(params["plan"]), date.fromisoformat(str(params["as_of"]))
            known, theme = str(params["known_at"]), str(params["theme"])
            if known != "now" and known != moment(known):
                msg = f"known_at {known!r} is not a moment in UTC as the store writes one"
                raise ValueError(msg)
        except (KeyError, ValueError, OverflowError) as exc:
            msg = f"manifest.json: parameters: {exc}"
            raise MalformedPack(msg) from None
        return cls(plan, as_of, None if known == "now" else known,
                   None if theme == "all" else theme)


def moment(text: str) -> str:
    """A moment as the store writes witnessed times (UTC, microseconds, `+00:00`), so that
    comparing the text compares the moments. ValueError for a time without a zone."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        msg = f"{text!r} has no time zone"
        raise ValueError(msg)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


# --- stored events, read as the library reads them -------------------------------------


def _classes() -> dict[str, type[ev.PlanEvent]]:
    """Every event class by its stable topic."""
    found: dict[str, type[ev.PlanEvent]] = {}
    todo: list[type[ev.PlanEvent]] = [ev.PlanEvent]
    while todo:
        cls = todo.pop()
        if topic := getattr(cls, "TOPIC", ""):
            found[topic] = cls
        todo.extend(cls.__subclasses__())
    return found


_CLASSES: dict[str, type[ev.PlanEvent]] = {}


_TYPES: dict[str, Any] = {"date_iso": date.fromisoformat, "datetime_iso": datetime.fromisoformat,
                          "uuid_hex": lambda s: UUID(hex=s), "decimal_str": Decimal}


def _typed(obj: dict[str, Any]) -> Any:
    if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
        return _TYPES[obj["_type_"]](obj["_data_"])
    return obj


def decode(record: EventRecord) -> ev.PlanEvent:
    """The domain event a stored row holds, built as the event-sourcing library builds it
    (its JSON transcodings for dates, times and ids; the state set on a bare object)."""
    if not _CLASSES:
        _CLASSES.update(_classes())
    cls = _CLASSES.get(record.topic)
    if cls is None:
        msg = f"position {record.position}: unknown event topic {record.topic!r}"
        raise ValueError(msg)
    state = json.loads(record.state.decode("utf-8"), object_hook=_typed)
    state["originator_id"] = record.originator_id
    state["originator_version"] = record.version
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


# --- what a pack holds ---------------------------------------------------------------


@dataclass
class PlanEvents:
    """Every event of one plan's streams up to a head, each with its seal, in position order."""

    plan: str
    records: list[tuple[EventRecord, Seal]] = field(default_factory=list)
    events: list[ev.PlanEvent] = field(default_factory=list)

    def add(self, record: EventRecord, seal: Seal) -> None:
        """One more event (in position order)."""
        self.records.append((record, seal))
        self.events.append(decode(record))

    def title(self) -> str:
        """The plan's registered title."""
        return next((e.title for e in self.events if isinstance(e, ev.PlanRegistered)),
                    self.plan)

    def items(self) -> dict[str, tuple[str, str]]:
        """Stream (hex) -> (item number, theme) of every item the plan filed."""
        return {item_id(self.plan, e.number).hex: (e.number, e.theme)
                for e in self.events if isinstance(e, ev.ItemFiled)}


def plan_streams(plan: str, plan_stream_events: Iterable[ev.PlanEvent]) -> set[str]:
    """The streams of a plan, from its own stream's events (the items it filed)."""
    return {plan_id(plan).hex, *(item_id(plan, e.number).hex for e in plan_stream_events
                                 if isinstance(e, ev.ItemFiled))}


# --- the derived files ---------------------------------------------------------------


@dataclass(frozen=True)
class Derived:
    """Every derived file's bytes and the manifest's control totals."""

    files: dict[str, bytes]
    rows: dict[str, int]
    totals: dict[str, Any]
    parameters: dict[str, str]
    grids: dict[str, list[list[Cell]]]  # each CSV's cells (the workbook's sheets)


def stated(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the report's cover states from the manifest: who ran the export and when, and
    the ledger digest (head position, link, witnessed time) the pack proves."""
    digest = manifest.get("ledger_digest")
    digest = digest if isinstance(digest, dict) else {}
    return {"run_by": manifest.get("run_by"), "run_at": manifest.get("run_at"),
            "position": digest.get("position"), "hash": digest.get("hash"),
            "recorded_at": digest.get("recorded_at")}


def derive(scope: Scope, pack: PlanEvents, cover: dict[str, Any]) -> Derived:
    """The pack's derived files, from its events alone (and, for the report's cover, what the
    manifest states: `stated`): the same folds the read models use."""
    items = pack.items()
    in_theme = {s for s, (_n, theme) in items.items() if scope.theme in (None, theme)}
    known = [(r, s, e) for (r, s), e in zip(pack.records, pack.events, strict=True)
             if scope.known_at is None or s.witness.at <= scope.known_at]
    by_item: dict[str, list[ev.PlanEvent]] = defaultdict(list)
    for record, _seal, event in known:
        if record.originator_id.hex in in_theme:
            by_item[items[record.originator_id.hex][0]].append(event)
    states = sorted((s for s in (fold(es, scope.as_of) for es in by_item.values())
                     if s is not None), key=lambda s: item_sort_key(s.number))
    plan_rows = [{k: row[k] for k in PLAN_COLUMNS}
                 for row in (item_row(s, scope.as_of) for s in states if not s.withdrawn)]
    slippage = sorted(({k: r[k] for k in SLIPPAGE_COLUMNS}
                       for s in states for r in outcome_rows(s)),
                      key=lambda r: (item_sort_key(r["item"]), r["outcome_no"]))
    effective = sorted(e.effective.isoformat()[:7] for e in pack.events)
    months = [m for m in months_from(effective[0], effective[-1])
              if month_end(m) <= scope.as_of] if effective else []
    snapshots = sorted(({k: r[k] for k in SNAPSHOT_COLUMNS}
                        for number in by_item for r in snapshot_rows(by_item[number], months)),
                       key=lambda r: (item_sort_key(r["item"]), r["month"]))
    corrected = {(rec.originator_id.hex, e.corrects): event_ref(
        items.get(rec.originator_id.hex, ("", ""))[0], rec.version)
        for (rec, _s), e in zip(pack.records, pack.events, strict=True)
        if isinstance(e, ev.CorrectionRecorded)}
    event_rows, changes = [], []
    for record, seal, event in known:
        stream = record.originator_id.hex
        if stream not in in_theme and (scope.theme or stream in items):
            continue  # another theme's item, or (with a theme) the plan's own stream
        if event.effective > scope.as_of and not isinstance(event, ev.CorrectionRecorded):
            continue
        item = items.get(stream, ("", ""))[0]
        ref = corrected.get((stream, record.version), "")
        event_rows.append(_event_row(record, seal, pack.plan, item, event, ref))
        if ev.kind_of(event) not in HIDDEN_KINDS and event.effective <= scope.as_of:
            row = change_row(record.position, pack.plan, item, event, seal.witness)
            changes.append({**{k: row[k] for k in CHANGE_COLUMNS}, "corrected_by": ref,
                            **lateness(row["recorded_at"], row["effective"], row["edition"]),
                            "ref": event_ref(item, record.version) if item else ""})
    params = scope.parameters(pack.title())
    per_kind = dict(sorted(Counter(r["kind"] for r in event_rows).items()))
    slips = {"slips": sum(r["slip_count"] for r in slippage),
             "months_slipped": sum(r["months_slipped"] for r in slippage)}
    html = render_report(params, cover, plan_rows, snapshots,
                         _mta_series(scope, by_item, months, slippage), months, slippage,
                         changes)
    grids = {  # flat: one row per outcome in plan.csv (ledger.export.flat)
        "events.csv": files.grid(event_rows, EVENT_COLUMNS),
        "plan.csv": files.grid(plan_rows, PLAN_COLUMNS),
        "snapshots.csv": files.grid(snapshots, SNAPSHOT_COLUMNS),
        "slippage.csv": files.grid(slippage, SLIPPAGE_COLUMNS),
        "changes.csv": files.grid(changes, CHANGES_COLUMNS),
    }
    out = {name: files.csv_of(cells) for name, cells in grids.items()}
    out["report.html"] = html.encode("utf-8")
    rows = {name: len(cells) - 1 for name, cells in grids.items()}
    rows["report.html"] = len(plan_rows)
    totals = {"events_in_scope": len(event_rows), "events_per_kind": per_kind,
              "items_per_status": dict(sorted(Counter(r["status"] for r in plan_rows).items())),
              "changes_per_kind": dict(sorted(Counter(r["kind"] for r in changes).items())),
              **slips}
    return Derived(out, rows, totals, params, grids)


def _event_row(record: EventRecord, seal: Seal, plan: str, item: str, event: ev.PlanEvent,
               corrected_by: str) -> dict[str, Any]:
    before, after = ev.describe(event)
    return {
        "position": record.position, "chain_hash": seal.link, "content_hash": seal.content,
        "stream": record.originator_id.hex, "version": record.version, "plan": plan,
        "item": item, "kind": ev.kind_of(event), "topic": record.topic,
        "recorded_at": seal.witness.at, "db_role": seal.witness.role,
        "effective": event.effective.isoformat(), "basis": event.basis,
        "edition": event.edition, "recorded_by": event.recorded_by,
        "attributed_to": event.attributed_to, "before": before, "after": after,
        "source": event.source, "note": event.note, "corrected_by": corrected_by,
    }


def _mta_series(scope: Scope, by_item: dict[str, list[ev.PlanEvent]], months: list[str],
                slippage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The target of every milestone whose target moved, at each month end (followed by its
    id: its number is its place among the outcomes known at the as-of date)."""
    series = []
    for row in (r for r in slippage if r["moves"]):
        final = fold(by_item[row["item"]], scope.as_of)
        assert final is not None  # the row comes from this fold
        ident = final.outcomes[row["outcome_no"]].id
        points = []
        for month in months:
            state: ItemState | None = fold(by_item[row["item"]],
                                           min(month_end(month), scope.as_of))
            outcome = next((o for o in state.outcomes.values() if o.id == ident),
                           None) if state else None
            if outcome is not None:
                points.append((month, "" if outcome.withdrawn else outcome.due))
        key = f"{row['item']} #{row['outcome_no']}"
        series.append({"key": key, "label": f"{key} {row['outcome']}", "outcome": row["outcome"],
                       "baseline": row["baseline_due"], "moves": row["moves"],
                       "points": points})
    return series


# --- the pack's primary files: events and the chain ------------------------------------


def event_line(record: EventRecord, seal: Seal, in_scope: bool) -> str:
    """One line of events.jsonl: the stored event exactly, its seal, and whether the pack's
    parameters select it (the derived files show only those)."""
    return json.dumps({
        "position": record.position, "stream": record.originator_id.hex,
        "version": record.version, "topic": record.topic,
        "stored": record.state.decode("utf-8"), "content_hash": seal.content,
        "chain_hash": seal.link, "in_scope": in_scope,
    }, ensure_ascii=False, sort_keys=True) + "\n"


def chain_line(position: int, previous: int, stream: str, content: str, link: str, at: str,
               role: str) -> str:
    """One line of chain.jsonl: `[position, previous, stream, content, link, at, role]` (the
    JSON `json.dumps` writes, built directly: a million of these make a 1M-event pack)."""
    quoted = [f'"{t}"' if _PLAIN.match(t) else json.dumps(t, ensure_ascii=False)
              for t in (at, role)]
    return f'[{position}, {previous}, "{stream}", "{content}", "{link}", {quoted[0]}, ' \
           f'{quoted[1]}]\n'


def in_scope(scope: Scope, pack: PlanEvents, index: int,
             items: dict[str, tuple[str, str]]) -> bool:
    """Whether the pack's parameters select its `index`th event (events.csv lists those);
    `items` is `pack.items()`."""
    record, seal = pack.records[index]
    event = pack.events[index]
    stream = record.originator_id.hex
    if stream in items and scope.theme not in (None, items[stream][1]):
        return False
    if stream not in items and scope.theme is not None:
        return False
    if scope.known_at is not None and seal.witness.at > scope.known_at:
        return False
    return not (event.effective > scope.as_of and not isinstance(event, ev.CorrectionRecorded))


# --- checking a pack ---------------------------------------------------------------


@dataclass
class Findings:
    """What a check found: each problem names the file and the row, position or field."""

    problems: list[str] = field(default_factory=list)
    events: int = 0
    positions: int = 0
    head: Seal | None = None
    anchor: int = 0  # the position before the pack's seal list (0: it starts at genesis)
    chain_lines: int = 0

    def add(self, problem: str) -> None:
        """One more problem."""
        self.problems.append(problem)


def read_manifest(directory: Path) -> tuple[dict[str, Any], bytes]:
    """The manifest, checked for the shape every later check relies on (MalformedPack if not):
    a known format, parameters, a digest, and files named plainly inside the pack."""
    raw = read_plain_file(directory, "manifest.json")
    try:
        manifest = json.loads(raw, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        msg = f"manifest.json: not JSON: {exc}"
        raise MalformedPack(msg) from None
    if not isinstance(manifest, dict):
        msg = "manifest.json: not a JSON object"
        raise MalformedPack(msg)
    if unknown := sorted(set(manifest) - MANIFEST_KEYS):
        msg = f"manifest.json: {unknown[0]!r} is not a field of a pack's manifest"
        raise MalformedPack(msg)
    if manifest.get("format") != FORMAT:
        msg = f"manifest.json: format is {manifest.get('format')!r}, not {FORMAT!r}"
        raise MalformedPack(msg)
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
        msg = "manifest.json: files: not an object of file entries"
        raise MalformedPack(msg)
    for name in listed:
        check_name(name, "manifest.json")
    Scope.from_parameters(manifest.get("parameters"))
    for key in ("run_at", "run_by"):  # the report's cover states them
        if not isinstance(manifest.get(key), str):
            msg = f"manifest.json: {key}: not text"
            raise MalformedPack(msg)
    read_digest_fields(manifest.get("ledger_digest"), "manifest.json: ledger_digest")
    stamp = manifest.get("timestamp")
    if (stamp is None) != ("digest.tsr" not in listed):
        msg = "manifest.json: timestamp and the file digest.tsr come together, or neither"
        raise MalformedPack(msg)
    if stamp is not None:
        read_digest_fields(stamp, "manifest.json: timestamp")
    return manifest, raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique (a reader that kept the first of two would read
    another manifest than the one checked)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _v in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        msg = f"the key {twice!r} appears twice"
        raise ValueError(msg)
    return found


def check_plain_file(directory: Path, name: str) -> Path:
    """A regular file of the pack, not a link, pipe or device (MalformedPack otherwise)."""
    path = directory / name
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        msg = f"{name}: cannot be read: {exc.strerror or exc}"
        raise MalformedPack(msg) from None
    if not stat.S_ISREG(mode):
        msg = f"{name}: not a plain file (a link, pipe or directory)"
        raise MalformedPack(msg)
    return path


def read_plain_file(directory: Path, name: str) -> bytes:
    """The bytes of a regular file of the pack (MalformedPack for a link, pipe or device)."""
    path = check_plain_file(directory, name)
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"{name}: cannot be read: {exc.strerror or exc}"
        raise MalformedPack(msg) from None


def timestamped(manifest: dict[str, Any]) -> tuple[int, str] | None:
    """The position and link the pack's timestamp reply stamps, as its manifest says."""
    stamp = manifest.get("timestamp")
    return None if stamp is None else (stamp["position"], stamp["hash"])


def check_name(name: object, where: str) -> str:
    """A file name of the pack: plain, inside the pack's own directory, one it may hold."""
    if not isinstance(name, str) or not _NAME.match(name) or name in {".", ".."}:
        msg = f"{where}: {name!r} is not a plain file name inside the pack"
        raise MalformedPack(msg)
    if name not in {*REQUIRED, *OPTIONAL, *SIGNATURE, "manifest.json"}:
        msg = f"{where}: {name!r} is not a file an evidence pack holds"
        raise MalformedPack(msg)
    return name


def read_digest_fields(data: object, where: str) -> tuple[int, str]:
    """The position and link a digest states (MalformedPack where it states no usable ones)."""
    if not isinstance(data, dict):
        msg = f"{where}: missing or not an object"
        raise MalformedPack(msg)
    position, link = data.get("position"), data.get("hash")
    if type(position) is not int or position < 1:
        msg = f"{where}: position {position!r} is not a whole number of at least 1"
        raise MalformedPack(msg)
    if not isinstance(link, str) or not _HEX64.match(link):
        msg = f"{where}: hash {link!r} is not 64 lowercase hex digits"
        raise MalformedPack(msg)
    return position, link


def check_pack(directory: Path) -> Findings:
    """Every integrity check of a pack, trusting nothing in it: files against the manifest and
    SHA256SUMS, every event's content hash, every link from genesis to the head, the head
    against the digest, no event of the plan left out, and every derived file recomputed from
    the events. Memory grows with the plan's events, not the ledger's. MalformedPack where the
    pack cannot be read as one."""
    manifest, _raw = read_manifest(directory)
    found = Findings()
    listed: dict[str, dict[str, Any]] = manifest["files"]
    _check_files(directory, listed, found)
    if found.problems:
        return found  # the files themselves are not the ones the manifest names
    scope = Scope.from_parameters(manifest["parameters"])
    digest = read_digest_fields(manifest["ledger_digest"], "manifest.json: ledger_digest")
    lines = _read_event_lines(directory / EVENTS, found)
    own = plan_id(scope.plan)
    try:
        streams = plan_streams(scope.plan, (decode(record) for _n, _t, record in lines
                                            if record.originator_id == own))
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        found.add(f"{EVENTS}: an event of the plan's own stream cannot be read: {exc!r}")
        return found
    seals = _check_chain(directory / CHAIN, {r.position for _n, _t, r in lines}, streams, found,
                         timestamped(manifest))
    head = found.head
    if not found.problems and (head is None or (head.position, head.link) != digest):
        at = f"{head.position} ({head.link[:16]}…)" if head else "nothing"
        found.add(f"{CHAIN}: the chain ends at {at}, but the digest says position {digest[0]} "
                  f"({digest[1][:16]}…)")
    if found.problems:
        return found
    pack = _check_events(lines, scope, seals, streams, found)
    if not found.problems:
        _check_claims(directory, manifest, pack, found)
    if found.problems:
        return found
    try:
        derived = derive(scope, pack, stated(manifest))
    except (AttributeError, KeyError, TypeError, ValueError, RecursionError) as exc:
        found.add(f"{EVENTS}: the events cannot be folded into the plan: {exc!r}")
        return found
    _check_derived(directory, manifest, derived, found)
    return found


def _check_claims(directory: Path, manifest: dict[str, Any], pack: PlanEvents,
                  found: Findings) -> None:
    """The manifest's own statements that the events and files can settle: the digest's time
    is the head's witnessed time, the signer's fingerprint is signer.pub.pem's, report.pdf is
    said to be unproven, and no event is dated outside the calendar the ledger accepts."""
    head = found.head
    assert head is not None
    stated = manifest["ledger_digest"].get("recorded_at")
    if stated != head.witness.at:
        found.add(f"manifest.json: ledger_digest recorded_at {stated!r} is not the head's "
                  f"witnessed time {head.witness.at}")
    signer = manifest.get("signer_fingerprint")
    shipped = directory / "signer.pub.pem"
    has_key = shipped.is_symlink() or shipped.exists()
    if (signer is not None or has_key) and (not has_key or signer != pem_fingerprint(
            read_plain_file(directory, "signer.pub.pem"), "signer.pub.pem")):
        found.add("manifest.json: signer_fingerprint is not signer.pub.pem's")
    if manifest.get("tool") != "ledger":
        found.add(f"manifest.json: tool {manifest.get('tool')!r} is not 'ledger'")
    if manifest.get("workbook") != sheets.NOTE:
        found.add("manifest.json: workbook must say what workbook.xlsx holds and how it is "
                  "checked, as this version writes it")
    if ("report.pdf" in manifest["files"]) != (manifest.get("report_pdf") == PDF_NOTE):
        found.add("manifest.json: report.pdf must come with the statement that it is not "
                  "re-derived (report_pdf), and that statement only with it")
    rag = next((e for e in pack.events if isinstance(e, ev.RagSet)
                and not {e.before, e.after} <= RAG_WORDS), None)
    if rag is not None:
        found.add(f"{EVENTS}: item stream {rag.originator_id.hex} version "
                  f"{rag.originator_version} sets a RAG of {rag.after[:40]!r}, not one of the "
                  f"legend's (red, amber, green): the ledger's rules never write it")
    latest = date(LATEST_YEAR, 12, 31)
    odd = next((e for e in pack.events if not EARLIEST <= e.effective <= latest), None)
    if odd is not None:
        found.add(f"{EVENTS}: an event takes effect on {odd.effective}, outside the "
                  f"{EARLIEST.year}-{LATEST_YEAR} the ledger accepts")


def _check_files(directory: Path, listed: dict[str, dict[str, Any]], found: Findings) -> None:
    """Every listed file a plain file of the pack with the manifest's SHA-256; SHA256SUMS
    naming exactly those (and the manifest and its signature), with their hashes; nothing
    else in the pack."""
    for name in REQUIRED:
        if name not in listed:
            found.add(f"manifest.json: {name} is not listed")
    for name, entry in listed.items():
        path = directory / name
        if not path.is_symlink() and not path.exists():
            found.add(f"{name}: listed in the manifest but missing")
            continue
        check_plain_file(directory, name)  # a link or a pipe is malformed, not missing
        if files.sha256_of(path) != entry.get("sha256"):
            found.add(f"{name}: its SHA-256 differs from the manifest's")
    signed = [n for n in SIGNATURE if (directory / n).is_symlink() or (directory / n).exists()]
    _check_sums(directory, {*listed, "manifest.json", *signed}, found)


def _check_derived(directory: Path, manifest: dict[str, Any], derived: Derived,
                   found: Findings) -> None:
    listed: dict[str, dict[str, Any]] = manifest["files"]
    _compare_derived(directory, listed, derived, found)
    if not found.problems:
        wrong = sheets.problem(directory / sheets.WORKBOOK,
                               sheets.expected(manifest, derived.grids))
        if wrong:
            found.add(f"{sheets.WORKBOOK}: {wrong}: it does not say what the pack's events "
                      f"and manifest give")
    for name, count in ((EVENTS, found.events), (CHAIN, found.chain_lines)):
        if listed[name].get("rows") != count:
            found.add(f"manifest.json: {name} has {count} rows, the manifest says "
                      f"{listed[name].get('rows')!r}")
    want = {**derived.totals, "events_in_pack": found.events, "positions": found.positions}
    if manifest.get("control_totals") != want:
        found.add(f"manifest.json: control_totals differ from the events' "
                  f"({_first_difference(manifest.get('control_totals'), want)})")
    if manifest["parameters"] != derived.parameters:
        found.add(f"manifest.json: parameters differ from the events' "
                  f"({_first_difference(manifest['parameters'], derived.parameters)})")


def _check_sums(directory: Path, names: set[str], found: Findings) -> None:
    """SHA256SUMS lists exactly `names`, each with its file's SHA-256, and the pack holds
    nothing else: a file the signed manifest does not name cannot ride along."""
    try:
        text = read_plain_file(directory, "SHA256SUMS").decode("utf-8")
    except UnicodeDecodeError:
        found.add("SHA256SUMS: not UTF-8")
        return
    listed: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or not _HEX64.match(digest):
            msg = f"SHA256SUMS line {number}: not 'sha256  name'"
            raise MalformedPack(msg)
        check_name(name, f"SHA256SUMS line {number}")
        listed.add(name)
        if name not in names:
            found.add(f"{name}: in SHA256SUMS but not in the signed manifest")
        elif files.sha256_of(directory / name) != digest:
            found.add(f"{name}: does not match SHA256SUMS")
    for name in sorted(names - listed):
        found.add(f"SHA256SUMS: {name} is not listed")
    present = {p.name for p in directory.iterdir()} - {"SHA256SUMS"}
    for name in sorted(present - listed - names):
        found.add(f"{name}: in the pack but not in SHA256SUMS")


def iter_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Each line of a JSON-lines file, parsed (MalformedPack naming the line if not JSON)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield number, json.loads(line.decode("utf-8"), object_pairs_hook=_no_duplicates)
            except (ValueError, RecursionError):
                msg = f"{path.name} line {number}: not JSON (or not UTF-8)"
                raise MalformedPack(msg) from None


def chain_rows(path: Path) -> Iterator[tuple[int, int, int, str, str, str, str, str]]:
    """Each line of chain.jsonl: (line number, position, previous, stream, content, link, at,
    role). A line as the ledger writes it is split at its commas, every field checked (hex
    of its length, a store time); any other line is read by the JSON parser and checked alike;
    a line that is neither is MalformedPack."""
    plain: set[str] = set()  # roles already checked
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            fields = _split_chain_line(raw, plain)
            if fields is None:
                fields = _parse_chain_line(raw)
            if fields is None:
                msg = (f"{CHAIN} line {number}: not [position, previous, stream, content, link, "
                       f"at, role] (positions whole numbers, hashes lowercase hex)")
                raise MalformedPack(msg)
            yield (number, *fields)


def _split_chain_line(raw: bytes, plain: set[str]) -> tuple[int, int, str, str, str, str,
                                                             str] | None:
    """The fields of a line exactly as `chain_line` writes it (fixed offsets after the two
    numbers: hashes are fixed-width hex, the time fixed-width), or None."""
    parts = raw.split(b", ", 2)
    if len(parts) != 3:
        return None
    p, prev, rest = parts
    end = len(rest) - (3 if rest.endswith(b'"]\n') else 2)
    if not (p[:1] == b"[" and _number(p[1:]) and _number(prev) and len(p) < 20
            and len(prev) < 19 and end >= 209 and rest[:1] == b'"'
            and rest[33:37] == rest[101:105] == rest[169:173] == rest[205:209] == b'", "'
            and rest[end:end + 2] == b'"]'
            and not (rest[1:33] + rest[37:101] + rest[105:169]).translate(None, _HEX_BYTES)):
        return None
    role = rest[209:end].decode("utf-8", "replace")
    at = rest[173:205].decode("ascii", "replace")
    if role not in plain:
        if not _PLAIN.match(role) or len(plain) >= 1000:
            return None
        plain.add(role)  # roles are few
    return (int(p[1:]), int(prev), rest[1:33].decode("ascii"), rest[37:101].decode("ascii"),
            rest[105:169].decode("ascii"), at, role)


def _number(text: bytes) -> bool:
    """ASCII digits as JSON writes a whole number: no sign, no leading zero."""
    return text.isdigit() and (text == b"0" or text[:1] != b"0")


def _parse_chain_line(raw: bytes) -> tuple[int, int, str, str, str, str, str] | None:
    """The fields of any other JSON line holding the same, or None."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    ok = (isinstance(row, list) and len(row) == 7 and all(type(v) is int for v in row[:2])
          and all(isinstance(v, str) for v in row[2:]) and _HEX32.match(row[2])
          and _HEX64.match(row[3]) and _HEX64.match(row[4]))
    return (row[0], row[1], row[2], row[3], row[4], row[5], row[6]) if ok else None


def _out_of_place(position: int, before: int, last: int) -> str:
    """What is wrong with a seal line's place after the line at `last` ("" if nothing)."""
    if position <= last or before != last:
        return f"follows position {before}, but the line before is position {last}"
    if position != last + 1:
        return (f"follows position {last}, but there is no position {last + 1}: the database "
                f"numbers events without gaps")
    return ""


def _out_of_time(when: str, at: str) -> str:
    """What is wrong with a seal line's witnessed time after one at `at` ("" if nothing)."""
    if not WITNESS_TIME.match(when):
        return (f"witnessed at {when[:40]!r}, not a time the store writes (so the time and the "
                f"role cannot trade characters in the link)")
    if when < at:
        return f"witnessed at {when}, before the seal before it"
    return ""


def _out_of_chain(expected: str, link: str) -> str:
    """What is wrong with a seal line's link, recomputed as `expected` ("" if nothing)."""
    if expected != link:
        return (f"the link does not follow from the links before it (recomputed "
                f"{expected[:16]}…, the file says {link[:16]}…)")
    return ""


def _out_of_pack(position: int, stream: str, link: str, streams: set[str], wanted: set[int],
                 stamp: tuple[int, str] | None) -> str:
    """What is wrong with a seal line against the pack ("" if nothing): a seal of the plan's
    streams whose event was left out, or a timestamped link that is not this one."""
    if stream in streams and position not in wanted:
        return (f"sealed for stream {stream} of this pack's plan, but the event is not in "
                f"{EVENTS}: it was left out")
    if stamp is not None and position == stamp[0] and link != stamp[1]:
        return f"the manifest's timestamp stamps {stamp[1][:16]}…, not this position's link"
    return ""


def _check_chain(path: Path, wanted: set[int], streams: set[str], found: Findings,
                 stamp: tuple[int, str] | None = None) -> dict[int, Seal]:
    """Recompute every link from the first line's to the head, keeping only the seals of the
    pack's events (memory grows with the plan, not the ledger); a seal of the plan's streams
    whose event is not in the pack is a problem, and so is a timestamped link (`stamp`) that
    is not the chain's at its position. The first line is position 1 (linked to genesis) or
    the anchor: the seal just before the plan's first event, whose link is taken as given
    (only the true link there leads to the digest's head). Sets found.head, found.anchor and
    found.positions."""
    seals: dict[int, Seal] = {}
    previous, at, last = GENESIS, "", 0
    sha256 = hashlib.sha256
    head: tuple[int, int, str, str, str, str, str] | None = None
    for number, position, before, stream, content, link, when, role in chain_rows(path):
        found.chain_lines = number
        if number == 1 and position > 1:  # the anchor
            previous, at, last = link, when, position
            found.anchor = position
            continue
        expected = sha256(f"{previous}:{position}:{stream}:{content}:{when}:{role}"
                          .encode()).hexdigest()
        problem = (_out_of_place(position, before, last) or _out_of_time(when, at)
                   or _out_of_chain(expected, link)
                   or _out_of_pack(position, stream, link, streams, wanted, stamp))
        if problem:
            found.add(f"{CHAIN} line {number} (position {position}): {problem}")
            break
        if position in wanted:
            seals[position] = Seal(position, content, link, before, Witness(when, role), stream)
        previous, at, last = link, when, position
        head = (position, before, stream, content, link, when, role)
        found.positions += 1
    if head is not None:
        p, before, stream, content, link, when, role = head
        found.head = Seal(p, content, link, before, Witness(when, role), stream)
    if not found.problems and stamp is not None and stamp[0] > last:
        found.add(f"{CHAIN}: ends at position {last}, before the timestamp's {stamp[0]}")
    return seals


def _read_event_lines(path: Path, found: Findings) -> list[tuple[int, str, EventRecord]]:
    """Each line of events.jsonl as read (number, canonical text, stored record), positions
    rising."""
    lines: list[tuple[int, str, EventRecord]] = []
    last = 0
    for number, row in iter_lines(path):
        record = _record(number, row)
        if record.position <= last:
            found.add(f"{EVENTS} line {number} (position {record.position}): positions must "
                      f"rise (the line before is {last})")
            return lines
        last = record.position
        lines.append((number, json.dumps(row, ensure_ascii=False, sort_keys=True), record))
    return lines


def _check_events(lines: list[tuple[int, str, EventRecord]], scope: Scope,
                  seals: dict[int, Seal], streams: set[str], found: Findings) -> PlanEvents:
    """Every event of the pack: of the plan's streams, its content hash recomputed and equal
    to its seal's, its line exactly as the ledger writes it."""
    pack = PlanEvents(scope.plan)
    for number, _text, record in lines:
        where = f"{EVENTS} line {number} (position {record.position})"
        seal = seals.get(record.position)
        problem = ""
        if record.originator_id.hex not in streams:
            problem = f"stream {record.originator_id.hex} is not one of plan {scope.plan}'s"
        elif seal is None:
            problem = f"no seal at this position in {CHAIN}"
        elif seal.stream != record.originator_id.hex or content_hash(record) != seal.content:
            problem = (f"the event differs from what was sealed (its content hash is "
                       f"{content_hash(record)[:16]}…, the seal's {seal.content[:16]}…)")
        else:
            try:
                pack.add(record, seal)
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                problem = f"the stored event cannot be read: {exc!r}"
        if problem:
            found.add(f"{where}: {problem}")
            return pack
    found.events = len(pack.records)
    versions: dict[str, int] = {}
    for record, _seal in pack.records:
        stream = record.originator_id.hex
        if record.version != versions.get(stream, 0) + 1:
            found.add(f"{EVENTS} position {record.position}: stream {stream} version "
                      f"{record.version} follows version {versions.get(stream, 0)}: the events "
                      f"between are not in the pack")
            return pack
        versions[stream] = record.version
    items = pack.items()
    for index, (number, text, record) in enumerate(lines):
        expected = event_line(record, pack.records[index][1],
                              in_scope(scope, pack, index, items)).rstrip("\n")
        if text != expected:
            found.add(f"{EVENTS} line {number} (position {record.position}): "
                      f"{_first_difference(json.loads(text), json.loads(expected))}")
            return pack
    return pack


def _record(number: int, row: Any) -> EventRecord:
    keys = {"position", "stream", "version", "topic", "stored", "content_hash", "chain_hash",
            "in_scope"}
    if not isinstance(row, dict) or set(row) != keys:
        msg = f"{EVENTS} line {number}: not an event line (fields {sorted(keys)})"
        raise MalformedPack(msg)
    ok = (type(row["position"]) is int and type(row["version"]) is int
          and isinstance(row["stream"], str) and _HEX32.match(row["stream"]) is not None
          and isinstance(row["topic"], str) and isinstance(row["stored"], str))
    if not ok:
        msg = f"{EVENTS} line {number}: a field has the wrong type"
        raise MalformedPack(msg)
    try:
        state = row["stored"].encode("utf-8")
    except UnicodeEncodeError:
        msg = f"{EVENTS} line {number}: stored holds text that is not Unicode (a lone surrogate)"
        raise MalformedPack(msg) from None
    return EventRecord(row["position"], UUID(hex=row["stream"]), row["version"], row["topic"],
                       state)


def _compare_derived(directory: Path, listed: dict[str, dict[str, Any]], derived: Derived,
                     found: Findings) -> None:
    for name, data in derived.files.items():
        actual = (directory / name).read_bytes()
        if actual != data:
            difference = _first_line_difference(actual, data, table=name.endswith(".csv"))
            found.add(f"{name}: {difference}: it does not say what "
                      f"the pack's events give")
        elif listed[name].get("rows") != derived.rows[name]:
            found.add(f"manifest.json: {name} has {derived.rows[name]} rows, the manifest says "
                      f"{listed[name].get('rows')!r}")


def _first_line_difference(actual: bytes, expected: bytes, *, table: bool) -> str:
    """Where two files first differ: the line, and for CSV the column, with both values."""
    got = actual.decode("utf-8", "replace").splitlines()
    want = expected.decode("utf-8", "replace").splitlines()
    header = next(csv.reader(want[:1]), []) if table else []
    for number, (a, b) in enumerate(zip(got, want, strict=False), 1):
        if a == b:
            continue
        cells_a = next(csv.reader([a]), []) if header else []  # a report line is no table's
        cells_b = next(csv.reader([b]), []) if header else []
        if header and len(cells_a) == len(cells_b) == len(header):
            column = next(i for i, (x, y) in enumerate(zip(cells_a, cells_b, strict=True))
                          if x != y)
            return (f"line {number}, column {header[column]}: {cells_a[column][:60]!r} where "
                    f"the events give {cells_b[column][:60]!r}")
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
        return (f"line {number}, from character {at + 1}: {a[at:at + 40]!r} where the events "
                f"give {b[at:at + 40]!r}")
    return f"{len(got)} lines where the events give {len(want)}"


def _first_difference(got: object, want: object) -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted({*got, *want}):
            if got.get(key) != want.get(key):
                return (f"{key}: {str(got.get(key))[:60]!r}, the events give "
                        f"{str(want.get(key))[:60]!r}")
    return f"{str(got)[:60]!r}, the events give {str(want)[:60]!r}"


def pem_fingerprint(pem: bytes, where: str) -> str:
    """`SHA256:` and the SHA-256 of an Ed25519 public key's DER bytes (what `openssl pkey
    -pubin -outform DER | sha256sum` gives), with the standard library alone."""
    key = ed25519.public_key_of_pem(pem)
    if key is None:
        msg = f"{where}: not an Ed25519 public key in PEM"
        raise MalformedPack(msg)
    return "SHA256:" + hashlib.sha256(ed25519.SPKI_PREFIX + key).hexdigest()


def named_signer(directory: Path, fingerprint: str) -> list[str]:
    """Whether the pack is signed by the key with this fingerprint: its signer.pub.pem has that
    fingerprint and the Ed25519 signature of manifest.json verifies with it."""
    present = [n for n in SIGNATURE if (directory / n).is_symlink() or (directory / n).exists()]
    if len(present) != len(SIGNATURE):
        return ["manifest.json.sig: the pack is not signed, but you named a signer"]
    pem = read_plain_file(directory, "signer.pub.pem")
    found = pem_fingerprint(pem, "signer.pub.pem")
    wanted = "SHA256:" + fingerprint.removeprefix("SHA256:").lower()
    if found != wanted:
        return [f"signer.pub.pem: its fingerprint is {found}, not the {wanted} you named: "
                f"another key signed this pack"]
    key = ed25519.public_key_of_pem(pem)
    assert key is not None  # pem_fingerprint read it
    if not ed25519.verify(key, read_plain_file(directory, "manifest.json"),
                          read_plain_file(directory, "manifest.json.sig")):
        return ["manifest.json.sig: the signature does not verify with the key you named"]
    return []
