"""The evidence pack's report: one self-contained HTML page (no network, no external files).

Parameters, the plan as of the date, an item × month heatmap, a milestone
trend analysis chart (report month across, forecast month up; the diagonal is
where a milestone is reached; a step up is a slip; baselines dashed), the
slippage table and the change log. Pure: data in, text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from projections.status_summary import (
    COMPLETE,
    IN_PROGRESS,
    IN_PROGRESS_SLIPPED,
    NOT_DUE,
    NOT_STARTED_SLIPPED,
    TBC,
)

# The 2015 legend's statuses: a short word for a heatmap cell, its colour class, and the
# class's colours (fill, text): the one definition the report's CSS and the workbook's fills use.
SHORT = {COMPLETE: "done", IN_PROGRESS: "on track", IN_PROGRESS_SLIPPED: "slipped",
         NOT_STARTED_SLIPPED: "late", NOT_DUE: "not due", TBC: "TBC"}
STATUS_CLASS = {COMPLETE: "done", IN_PROGRESS: "ontrack", IN_PROGRESS_SLIPPED: "slipped",
                NOT_STARTED_SLIPPED: "late", NOT_DUE: "notdue", TBC: "tbc"}
CLASS_COLOURS = {"done": ("#3d8c40", "#fff"), "ontrack": ("#a9d18e", ""),
                 "slipped": ("#f4b183", ""), "late": ("#e06666", "#fff"),
                 "notdue": ("#e7e6e6", ""), "tbc": ("#fff", "")}
RAG_CLASSES = ("red", "amber", "green")
RAG_COLOURS = {"red": "#c00", "amber": "#e69138", "green": "#38761d"}
STATUS_COLOURS = {status: CLASS_COLOURS[css] for status, css in STATUS_CLASS.items()}


def _css_colours() -> str:
    status = "".join(f".{css}{{background:{fill}" + (f";color:{ink}" if ink else "") + "}"
                     for css, (fill, ink) in CLASS_COLOURS.items())
    rag = "".join(f".rag-{rag}{{outline:2px solid {colour}}}"
                  for rag, colour in RAG_COLOURS.items())
    return status + rag + "\n"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1b1b}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:12px;margin:6px 0} td,th{border:1px solid #d0d0d0;
padding:3px 6px;vertical-align:top;text-align:left} th{background:#f2f2f2}
.heat td{width:64px;text-align:center;font-size:11px}
.small{color:#555;font-size:11px} svg text{font-size:10px;font-family:inherit}
""" + _css_colours()


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return escape("" if value is None else str(value))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], css: str = "") -> str:
    """An HTML table of rows."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def heatmap(snapshots: Sequence[dict[str, Any]]) -> str:
    """Item × month grid, coloured by derived status, outlined by RAG where one is stated."""
    months = sorted({s["month"] for s in snapshots})
    grid: dict[str, dict[str, dict[str, Any]]] = {}
    for row in snapshots:
        grid.setdefault(row["item"], {})[row["month"]] = row
    head = "".join(f"<th>{escape(m)}</th>" for m in months)
    rows = []
    for item, by_month in grid.items():
        cells = []
        for month in months:
            snap = by_month.get(month)
            if snap is None:
                cells.append("<td></td>")
                continue
            css = STATUS_CLASS.get(snap["status"], "tbc")
            if snap["rag"] in RAG_CLASSES:  # a class only from the legend, never from text
                css += f" rag-{snap['rag']}"
            label = escape(SHORT.get(snap["status"], snap["status"]))
            cells.append(f'<td class="{css}" title="{escape(snap["status"])}">{label}</td>')
        rows.append(f"<tr><th>{escape(item)}</th>{''.join(cells)}</tr>")
    legend = " ".join(f'<span class="{c}">&nbsp;{escape(s)}&nbsp;</span>'
                      for s, c in STATUS_CLASS.items())
    return (f'<p class="small">{legend}</p><table class="heat" id="heatmap"><thead><tr>'
            f"<th>item</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _index(months: list[str], month: str) -> int:
    return months.index(month) if month in months else 0


def mta_chart(series: Sequence[dict[str, Any]], width: int = 760, height: int = 420) -> str:
    """Milestone trend analysis as inline SVG.

    `series`: one entry per milestone with `label`, `baseline` (YYYY-MM) and `points`
    [(report month, forecast month)].
    """
    report_months = sorted({p[0] for s in series for p in s["points"]})
    forecast = sorted({p[1] for s in series for p in s["points"]} | {s["baseline"] for s in series}
                      | set(report_months))
    forecast = [m for m in forecast if m]
    if not report_months or not forecast:
        return '<p id="mta">No dated milestones in scope.</p>'
    left, bottom, top, right = 74, 40, 20, 160
    plot_w, plot_h = width - left - right, height - top - bottom
    axis = sorted(set(report_months) | set(forecast))

    def x(month: str) -> float:
        return left + plot_w * _index(axis, month) / max(len(axis) - 1, 1)

    def y(month: str) -> float:
        return top + plot_h - plot_h * _index(axis, month) / max(len(axis) - 1, 1)

    parts = [f'<svg id="mta" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img" aria-label="Milestone trend analysis">',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
             'stroke="#999"/>',
             f'<line x1="{x(axis[0])}" y1="{y(axis[0])}" x2="{x(axis[-1])}" y2="{y(axis[-1])}" '
             'stroke="#555" stroke-width="1.5"><title>milestone reached</title></line>']
    for month in axis:
        parts.append(f'<text x="{x(month)}" y="{height - 22}" text-anchor="middle">'
                     f"{escape(month)}</text>")
        parts.append(f'<text x="{left - 6}" y="{y(month) + 3}" text-anchor="end">'
                     f"{escape(month)}</text>")
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
                 "report month</text>")
    parts.append(f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 '
                 f'{top + plot_h / 2})" text-anchor="middle">forecast month</text>')
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
               "#17becf", "#7f7f7f", "#bcbd22")
    for n, milestone in enumerate(series):
        colour = colours[n % len(colours)]
        if milestone["baseline"]:
            parts.append(f'<line x1="{x(axis[0])}" y1="{y(milestone["baseline"])}" '
                         f'x2="{x(axis[-1])}" y2="{y(milestone["baseline"])}" stroke="{colour}" '
                         'stroke-dasharray="4 3" stroke-opacity="0.6"/>')
        points = " ".join(f"{x(r)},{y(f)}" for r, f in milestone["points"] if f)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"><title>{escape(milestone["label"])}</title></polyline>')
        for r, f in milestone["points"]:
            if f:
                parts.append(f'<circle cx="{x(r)}" cy="{y(f)}" r="3" fill="{colour}"/>')
        parts.append(f'<text x="{width - right + 8}" y="{top + 12 + 13 * n}" fill="{colour}">'
                     f"{escape(milestone['label'][:26])}</text>")
    parts.append("</svg>")
    return "".join(parts)


def render_report(params: dict[str, Any], plan_rows: Sequence[dict[str, Any]],
                  snapshots: Sequence[dict[str, Any]], series: Sequence[dict[str, Any]],
                  slippage: Sequence[dict[str, Any]], changes: Sequence[dict[str, Any]]) -> str:
    """The whole report page."""
    plan_view = [{**r, "outcomes": "; ".join(f"{o['due'] or 'TBC'} (baseline "
                                              f"{o['baseline_due'] or 'TBC'})"
                                              for o in r["outcomes"]),
                  "latest_update": (r["latest_update"] or {}).get("text", "")[:120]}
                 for r in plan_rows]
    slip_view = [{**r, "moves": "; ".join(f"{m['from']}→{m['to']} ({m['effective']}, "
                                          f"{m['by']}: {m['note']})" for m in r["moves"])}
                 for r in slippage]
    params_rows = [{"parameter": k, "value": v} for k, v in params.items()]
    return "".join([
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>Evidence pack: {escape(str(params.get('plan', '')))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Evidence pack: {escape(str(params.get('plan_title', params.get('plan', ''))))}</h1>",
        '<p class="small">Produced by ledger from its immutable event store. Every figure '
        "below can be recomputed from events.jsonl; manifest.json and SHA256SUMS bind the "
        "files together.</p>",
        "<h2>Parameters</h2>", table(params_rows, ("parameter", "value")),
        f"<h2>The plan as of {escape(str(params.get('as_of', '')))}</h2>",
        table(plan_view, ("item", "aim", "leads", "rag", "status", "outcomes", "updates",
                          "latest_update"), "plan"),
        "<h2>Status by month (item × month)</h2>", heatmap(snapshots),
        "<h2>Milestone trend analysis</h2>",
        '<p class="small">Across: the month of the report; up: the month a milestone was then '
        "forecast for. A step up is a slip; a line meeting the diagonal is a milestone reached; "
        "dashed lines are baselines.</p>", mta_chart(series),
        "<h2>Slippage</h2>",
        table(slip_view, ("item", "outcome", "baseline_due", "current_due", "slip_count",
                          "months_slipped", "moves")),
        "<h2>Change log</h2>",
        table(changes, ("seq", "recorded_at", "effective", "item", "kind", "by",
                        "attributed_to", "before", "after", "note", "corrected_by")),
        "</body></html>",
    ])
