"""The evidence pack's report: one self-contained HTML page for a committee, printed on A4.

A cover (the parameters, who ran the export and when, the ledger digest it proves), the plan
with each outcome's text, target and baseline, the item × month statuses in the words and
colours of the legends they show, the milestone trend chart (`chart`), the slippage table,
and the change log as a landscape appendix; page numbers "Page N of M" on every page. Pure:
data in, text out (`verify_pack.py` re-derives it byte for byte). Every text from users is
escaped: it never acts as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.export.chart import colour, long_month, text, trend_chart
from projections.status_summary import (
    COMPLETE,
    IN_PROGRESS,
    IN_PROGRESS_SLIPPED,
    NO_PROGRESS,
    NOT_DUE,
    NOT_STARTED_SLIPPED,
    TBC,
)

# The council's RAG key, as every page of the 2018 plan prints it.
RAG_KEY = "Green – complete / evaluated; Amber – on track; Red – off track"
RAG_CLASSES = ("red", "amber", "green")
# The 2015 legend (December 2015 progress report), its key's words, and the colour each
# status takes from the RAG key: complete green, on track amber, slipped red, the rest none.
STATUS_KEY = (
    (COMPLETE, "Action completed", "st-complete"),
    (IN_PROGRESS, "Action in progress and due date not arrived", "st-progress"),
    (IN_PROGRESS_SLIPPED, "Due date gone but action in progress", "st-slipped"),
    (NOT_STARTED_SLIPPED, "Due date gone and action yet not started", "st-late"),
    (NOT_DUE, "Action not started, but not due yet", "st-notdue"),
    (TBC, "To be confirmed", "st-tbc"),
    (NO_PROGRESS, "no progress update in force (the ledger's words: it cannot know that an "
                  "action has not started)", "st-none"),
)
STATUS_CLASS = {status: css for status, _meaning, css in STATUS_KEY}
# Each colour class's (fill, ink): the one definition the report's CSS and the workbook's
# fills use. The RAG key's colours, and the statuses' (complete green, on track amber,
# slipped red) taken from it.
CLASS_COLOURS = {"st-complete": ("#2e7d32", "#fff"), "st-progress": ("#ffc000", "#000"),
                 "st-slipped": ("#c62828", "#fff"), "st-late": ("#7f0000", "#fff"),
                 "st-notdue": ("#e0e0e0", "#000"), "st-tbc": ("#fff", "#000"),
                 "st-none": ("#fff", "#555")}
RAG_COLOURS = {"red": "#c62828", "amber": "#ffc000", "green": "#2e7d32"}
STATUS_COLOURS = {status: CLASS_COLOURS[css] for status, css in STATUS_CLASS.items()}


def _css_colours() -> str:
    status = "".join(f".{css}{{background:{fill};color:{ink}}}"
                     for css, (fill, ink) in CLASS_COLOURS.items())
    rag = "".join(f".rag-{rag}{{background:{colour};color:{CLASS_COLOURS[css][1]}}}"
                  for (rag, colour), css in zip(RAG_COLOURS.items(),
                                                ("st-slipped", "st-progress", "st-complete"),
                                                strict=True))
    return status + ".st-none{font-style:italic}" + rag + "\n"


HEAT_BAND = 8  # months per heatmap table: a band fits the width of an A4 page
CSS = """
@page{size:A4;margin:15mm 13mm 17mm;@bottom-center{content:"Page " counter(page) " of "
counter(pages);font:9pt system-ui,sans-serif;color:#333}}
@page appendix{size:A4 landscape;margin:12mm 12mm 15mm}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1b1b;
max-width:1060px;margin:24px auto;padding:0 16px;font-size:13px}
@media print{body{margin:0;padding:0;max-width:none;font-size:10px}}
h1{font-size:24px;margin:0 0 6px} h2{font-size:17px;margin:22px 0 8px;
border-bottom:1px solid #bbb;break-after:avoid} .cover{break-after:page}
table{border-collapse:collapse;margin:6px 0;width:100%;table-layout:fixed}
td,th{border:1px solid #c8c8c8;padding:3px 5px;vertical-align:top;text-align:left;
overflow-wrap:anywhere} th{background:#f0f0f0;overflow-wrap:break-word} tr{break-inside:avoid}
.facts th{width:26%} .mono{font-family:ui-monospace,Consolas,monospace}
h1,h2,p,li,dd{overflow-wrap:anywhere}
.small{color:#444;font-size:11px} ul.outcomes{margin:0;padding-left:14px}
.due{color:#444;white-space:nowrap} .heat td{font-size:9px;text-align:center}
.heat th.item{width:44px} .key td{font-size:11px} .key td.swatch{width:170px}
.rag{display:inline-block;padding:0 4px;border-radius:2px;font-size:9px;margin-top:2px}
.chart svg{max-width:100%;height:auto} svg text{font-size:10px;font-family:inherit}
ol.mta-legend{padding-left:28px} ol.mta-legend li{margin:3px 0}
.swatch-line{display:inline-block;width:22px;border-top:3px solid;vertical-align:middle}
.appendix{page:appendix;break-before:page} .appendix td,.appendix th{font-size:8.5px}
""" + _css_colours()


def table(rows: Sequence[Sequence[str]], headings: Sequence[str], css: str = "",
          widths: Sequence[int] = ()) -> str:
    """An HTML table of cells already made safe (escaped); `widths` in per cent."""
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    head = "".join(f"<th>{text(h)}</th>" for h in headings)
    head = f"<thead><tr>{head}</tr></thead>" if any(headings) else ""
    body = "".join("\n<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<table class="{css}">{f"<colgroup>{cols}</colgroup>" if cols else ""}{head}'
            f"<tbody>{body}</tbody></table>")


def rag_badge(rag: str) -> str:
    """A stated RAG in the council's key's colour (a class only from the key, never text)."""
    if rag not in RAG_CLASSES:
        return text(rag)
    return f'<span class="rag rag-{rag}">RAG: {rag.capitalize()}</span>'


def cover(params: dict[str, Any], stated: dict[str, Any]) -> str:
    """The first page: what the pack covers, who ran it and when, the digest it proves."""
    title = params.get("plan_title") or params.get("plan", "")
    facts = [("Plan", f'{text(params.get("plan"))}: {text(title)}'),
             ("The plan as of", text(params.get("as_of"))),
             ("As the ledger knew it at", text(params.get("known_at"))),
             ("Theme", text(params.get("theme"))),
             ("Run by", text(stated.get("run_by"))),
             ("Run at", text(stated.get("run_at"))),
             ("Ledger digest: head position", text(stated.get("position"))),
             ("Ledger digest: head link (SHA-256)",
              f'<span class="mono">{text(stated.get("hash"))}</span>'),
             ("Ledger digest: head witnessed at", text(stated.get("recorded_at")))]
    return "".join([
        '<section class="cover">',
        f"<h1>Evidence pack: {text(title)}</h1>",
        '<p class="small">Produced by ledger from its immutable event store. Every table and '
        "chart below is recomputed from the pack's events.jsonl by its own verifier "
        "(<span class=\"mono\">python3 -I verify_pack.py PACK</span>); manifest.json and "
        "SHA256SUMS bind the files together. Compare the digest below with the one the "
        "council published: the pack's chain must end at that link.</p>",
        table([[f"<b>{text(k)}</b>", v] for k, v in facts], ("", ""), "facts", (30, 70)),
        "<h2>Contents</h2><ol><li>The plan</li><li>Status by month</li>"
        "<li>Milestone trend</li><li>Slippage</li><li>Appendix: change log</li></ol>",
        "</section>"])


def _outcomes(outcomes: Sequence[dict[str, Any]]) -> str:
    if not outcomes:
        return '<span class="small">none listed</span>'
    return '<ul class="outcomes">' + "".join(
        f'<li>{text(o["text"])} <span class="due">(due {long_month(o["due"])}; baseline '
        f'{long_month(o["baseline_due"])})</span></li>' for o in outcomes) + "</ul>"


def _latest(update: dict[str, Any] | None) -> str:
    if not update:
        return '<span class="small">none</span>'
    when = (long_month(update["month"]) if update["month"]
            else f'undated, reported in {long_month(update["reported"])}')
    return f'{text(update["text"])} <span class="small">({text(when)})</span>'


def plan_table(rows: Sequence[dict[str, Any]]) -> str:
    """The plan as of the date: each item with its outcomes' text, due and baseline."""
    cells = [[text(r["item"]), text(r["aim"]), text("; ".join(r["leads"])), rag_badge(r["rag"]),
              text(r["status"]), _outcomes(r["outcomes"]), _latest(r["latest_update"])]
             for r in rows]
    return table(cells, ("Item", "Aim", "Leads", "RAG", "Status", "Outcomes (target; baseline)",
                         "Latest update"), "plan", (6, 15, 12, 6, 11, 29, 21))


def heatmap(snapshots: Sequence[dict[str, Any]]) -> str:
    """Item × month statuses in the legend's own words and colours, in bands of months."""
    months = sorted({s["month"] for s in snapshots})
    grid: dict[str, dict[str, dict[str, Any]]] = {}
    for row in snapshots:
        grid.setdefault(row["item"], {})[row["month"]] = row
    key = table([[f'<span class="{css}" style="display:block;padding:2px 4px">{text(s)}</span>',
                  text(m)] for s, m, css in STATUS_KEY], ("Status (the 2015 legend)", "Key"),
                "key", (30, 70))
    bands = []
    for start in range(0, len(months), HEAT_BAND):
        band = months[start:start + HEAT_BAND]
        head = "".join(f"<th>{long_month(m)}</th>" for m in band)
        rows = []
        for item, by_month in grid.items():
            cells = []
            for month in band:
                snap = by_month.get(month)
                if snap is None:
                    cells.append("<td></td>")
                    continue
                mark = "*" if snap.get("basis") == "assumed" else ""
                rag = f"<br>{rag_badge(snap['rag'])}" if snap["rag"] in RAG_CLASSES else ""
                cells.append(f'<td class="{STATUS_CLASS.get(snap["status"], "st-tbc")}">'
                             f"{text(snap['status'])}{mark}{rag}</td>")
            rows.append(f"\n<tr><th>{text(item)}</th>{''.join(cells)}</tr>")
        bands.append(f'<table class="heat"><colgroup><col style="width:44px"></colgroup><thead>'
                     f'<tr><th class="item">Item</th>{head}</tr></thead><tbody>{"".join(rows)}'
                     "</tbody></table>")
    return "".join([
        '<p class="small">Each cell is the item\'s status at the end of the month, derived from '
        "its due dates and progress updates, in the words of the council's status legend "
        "(December 2015 progress report). Colours follow the council's RAG key (",
        text(RAG_KEY), "): Complete is green, in progress before its due date amber, slipped "
        "red; the other statuses have no RAG colour. A RAG is shown only where a document "
        "states it in words. * the item's structure is assumed from a later edition; an empty "
        "cell: no document places the item in the plan at that month's end.</p>",
        key, f'<div id="heatmap">{"".join(bands)}</div>'])


def trend(series: Sequence[dict[str, Any]], report_months: Sequence[str], as_of: str,
          milestones: int) -> str:
    """The milestone trend chart, the rule for which milestones it shows, and its legend."""
    chart = trend_chart(series, report_months)
    rule = (f"Shown: every milestone whose target moved at least once by {text(as_of)} "
            f"({len(series)} of the {milestones} milestones in the plan); a milestone whose "
            "target never moved is not drawn (see the plan and slippage tables).")
    if not chart:
        return f'<p class="small" id="mta-rule">{rule}</p><p>Nothing to draw.</p>'
    legend = "".join(
        f'<li><span class="swatch-line" style="border-color:{colour(n)[0]};border-top-style:'
        f'{"solid" if not colour(n)[1] else "dashed"}"></span> <b>{text(s["key"])}</b> '
        f'{text(s["outcome"].rstrip(". "))}. Baseline {long_month(s["baseline"])}; ' + "; ".join(
            f'moved {long_month(m["from"])} → {long_month(m["to"])} (effective '
            f'{text(m["effective"])}, recorded by {text(m["by"])})' for m in s["moves"])
        + "</li>" for n, s in enumerate(series))
    return "".join([
        f'<p class="small" id="mta-rule">{rule} Across: the plan as it stood at the end of each '
        "month; up: the month each milestone was then due. Both axes give each calendar "
        "month one equal step. A line is level while its target holds; a step up is a slip, "
        "drawn in the month the move took effect (a step down, a target brought forward). "
        "The grey diagonal is where the target is the month itself: an open milestone on or "
        "below it is due or overdue. The chart does not show completion: see each item's "
        "status in the plan table. Open circles: where a line starts; dots: each move. Lines "
        "that share a path are drawn side by side, a pixel or two apart.</p>",
        f'<div class="chart">{chart}</div><ol class="mta-legend">{legend}</ol>'])


def slippage_table(rows: Sequence[dict[str, Any]]) -> str:
    """Every outcome: baseline, current target, slips, and each move."""
    cells = [[text(r["item"]), text(r["outcome"]), long_month(r["baseline_due"]),
              long_month(r["current_due"]), text(r["slip_count"]), text(r["months_slipped"]),
              "<br>".join(f'{long_month(m["from"])} → {long_month(m["to"])} ({text(m["effective"])}'
                          f', {text(m["by"])}: {text(m["note"])})' for m in r["moves"])]
             for r in rows]
    return table(cells, ("Item", "Outcome", "Baseline", "Target", "Slips", "Months slipped",
                         "Moves (effective, by: why)"), "slippage", (6, 34, 9, 9, 6, 8, 28))


def change_log(rows: Sequence[dict[str, Any]]) -> str:
    """The change log: every change in scope, one row each."""
    columns = ("seq", "ref", "recorded_at", "effective", "days_late", "kind", "by",
               "attributed_to", "before", "after", "note", "corrected_by")
    cells = [[text(r.get(c)) for c in columns] for r in rows]
    return table(cells, ("Seq", "Ref", "Recorded at", "Effective", "Days late", "Kind", "By",
                         "Attributed to", "Before", "After", "Note", "Corrected by"),
                 "changes", (3, 5, 11, 6, 4, 9, 8, 8, 13, 17, 10, 6))


def render_report(params: dict[str, Any], stated: dict[str, Any],
                  plan_rows: Sequence[dict[str, Any]], snapshots: Sequence[dict[str, Any]],
                  series: Sequence[dict[str, Any]], report_months: Sequence[str],
                  slippage: Sequence[dict[str, Any]], changes: Sequence[dict[str, Any]]) -> str:
    """The whole report page. `stated`: the manifest's run_by, run_at and digest fields."""
    as_of = str(params.get("as_of", ""))
    return "\n".join([
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>Evidence pack: {text(params.get('plan'))} as of {text(as_of)}</title>",
        f"<style>{CSS}</style></head><body>", cover(params, stated),
        f"<h2>1. The plan as of {text(as_of)}</h2>", plan_table(plan_rows),
        "<h2>2. Status by month (item × month)</h2>", heatmap(snapshots),
        "<h2>3. Milestone trend</h2>", trend(series, report_months, as_of, len(slippage)),
        "<h2>4. Slippage</h2>", slippage_table(slippage),
        '<section class="appendix"><h2>Appendix: change log</h2>',
        '<p class="small">Every change in scope, in the order the ledger recorded it. Ref: '
        "ITEM@N, as <span class=\"mono\">ledger history</span> and "
        "<span class=\"mono\">ledger correct</span> name it.</p>", change_log(changes),
        "</section></body></html>",
    ])
