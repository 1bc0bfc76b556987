"""The one flat form of a read model's rows, for CSV and the workbook: what a spreadsheet or
a script reads without parsing JSON inside a cell.

A query's JSON stays structured; its CSV, and the pack's CSV and workbook sheet of the same
read model, are these rows:

- `outcomes` (a list of objects): one row per outcome, the item's other columns repeated
  (`outcome_no`, `outcome`, `outcome_due`, `outcome_baseline_due`); an item without
  outcomes is one row with those cells empty;
- `latest_update` (an object or none): its own columns (`latest_update_month`, `_reported`,
  `_basis`, `_by`, `_text`);
- `moves` (a slippage row's target moves): still one row per outcome, so that a
  spreadsheet's sum of `slip_count` is the pack's total; `moves` is `2018-09→2018-11; …`,
  with `moves_effective` and `moves_by` in the same order (who and why in full: the
  `target_moved` rows of `changes`); each entry escaped as a list's items are;
- any other list (leads): its items joined with "; ", each item's own "%" and ";" written
  "%25" and "%3B" (as in a URL), so that splitting the cell on "; " gives the items back;
- a target in before/after as a month, `YYYY-MM`: "outcome #5 due November 2018" is
  "outcome #5 due 2018-11" (a label that names no month, "Winter 15", "TBC", stays as the
  document wrote it);
- true/false, and nothing for none.

Pure and standard library only: verify_pack.py carries this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

JOIN = "; "
OUTCOME = (("outcome_no", "number"), ("outcome", "text"), ("outcome_due", "due"),
           ("outcome_baseline_due", "baseline_due"))
LATEST = ("month", "reported", "basis", "by", "text")
MOVES = ("moves", "moves_effective", "moves_by")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_DUE = re.compile(r"(?P<head>outcome #\d+ due |#\d+ due )(?P<label>[^\n]*)\Z")
_BRACKET = re.compile(r"(?P<head>outcome #\d+: .*\[)(?P<label>[^\[\]\n]*)\]\Z", re.DOTALL)
_LABEL = re.compile(r"(?P<name>[A-Za-z]{3,9})\.?,? +(?P<year>\d{4})\Z")


def columns(names: Sequence[str]) -> tuple[str, ...]:
    """The flat columns of rows with these (structured) columns, in the same order."""
    out: list[str] = []
    for name in names:
        if name == "outcomes":
            out += [flat for flat, _key in OUTCOME]
        elif name == "latest_update":
            out += [f"latest_update_{key}" for key in LATEST]
        elif name == "moves":
            out += MOVES
        else:
            out.append(name)
    return tuple(out)


def rows(structured: Iterable[Mapping[str, Any]], names: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Each structured row as its flat rows (one per outcome where outcomes are listed);
    numbers stay numbers, booleans booleans, for the writer to spell."""
    for row in structured:
        base: dict[str, Any] = {}
        for name in names:
            value = row.get(name)
            if name == "outcomes":
                continue
            if name == "latest_update":
                latest = value if isinstance(value, dict) else {}
                base.update({f"latest_update_{key}": latest.get(key) for key in LATEST})
            elif name == "moves":
                base.update(_moves(value if isinstance(value, list) else []))
            elif name in ("before", "after") and isinstance(value, str):
                base[name] = iso_target(value, str(row.get("kind", "")))
            else:
                base[name] = joined(value)
        if "outcomes" not in names:
            yield base
            continue
        outcomes = row.get("outcomes") or [{}]
        for outcome in outcomes:
            yield {**base, **{flat: outcome.get(key) for flat, key in OUTCOME}}


def joined(value: Any) -> Any:
    """A list's items joined with "; " (each spelt as a cell is, its own "%" and ";" escaped:
    `entry`); anything else as it is."""
    if isinstance(value, list):
        return JOIN.join(entry(v) for v in value)
    if isinstance(value, dict):  # no read model has one here; never JSON in a cell
        return JOIN.join(f"{k}={entry(v)}" for k, v in sorted(value.items()))
    return value


def entry(value: Any) -> str:
    """One item of a joined cell: spelt, with "%" written "%25" and ";" "%3B", so that no item
    holds the separator and splitting the cell on "; " gives the items, in order
    ("Smith; Jones" is one lead, `Smith%3B Jones`)."""
    text = spelt(value)
    if "%" in text or ";" in text:
        return text.replace("%", "%25").replace(";", "%3B")
    return text


def spelt(value: Any) -> str:
    """A value as cell text: nothing for none, true/false, else its text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return str(joined(value))
    return str(value)


def _moves(moves: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "moves": JOIN.join(entry(f"{m.get('from') or 'none'}→{m.get('to') or 'none'}")
                           for m in moves),
        "moves_effective": JOIN.join(entry(m.get("effective")) for m in moves),
        "moves_by": JOIN.join(entry(m.get("by")) for m in moves),
    }


def iso_target(text: str, kind: str) -> str:
    """A target named as a month in before/after text, written `YYYY-MM`: "outcome #5 due
    November 2018" (a target move) and "outcome #1: TEXT [December 2018]" (an outcome
    added); other text, and a label that names no month, as it is."""
    pattern = _DUE if kind == "target_moved" else _BRACKET if kind == "outcome_added" else None
    found = pattern.match(text) if pattern else None
    if found is None:
        return text
    month = month_of_label(found["label"])
    if not month:
        return text
    return found["head"] + month + ("]" if pattern is _BRACKET else "")


def month_of_label(label: str) -> str:
    """`YYYY-MM` for a label naming a month and a year ("November 2018", "Sept 2018"), else
    ""."""
    found = _LABEL.match(label.strip())
    if found is None:
        return ""
    name = found["name"].lower()
    number = next((n for n, month in enumerate(_MONTHS, 1)
                   if month == name or (len(name) >= 3 and month.startswith(name))), 0)
    return f"{found['year']}-{number:02d}" if number else ""
