"""The report's milestone trend chart: inline SVG on a true time axis. Pure, standard library.

Across: the month end at which the plan stood so; up: the month a milestone was then due.
Both axes give every calendar month one equal step and label months in date order. Each
milestone is a step line: level while its target holds, a vertical jump in the month a move
took effect. Every label is escaped: text from users never acts as markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from ledger.domain.words import shown

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
DASHES = ("", "6 3", "2 2", "8 3 2 3")  # after ten series the colours repeat with a dash
WIDTH, LEFT, TOP, BOTTOM = 720, 80, 14, 58
SHIFT = 1.6  # px between series that share a path, so that none hides another


def text(value: object) -> str:
    """User text as inert HTML: control characters shown escaped, markup characters escaped."""
    return escape(shown("" if value is None else str(value)))


def index(month: str) -> int:
    """A YYYY-MM month as a count of months (equal steps on the axes)."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_of(number: int) -> str:
    """The YYYY-MM month of a count of months."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def long_month(month: str) -> str:
    """`2018-09` as `Sep 2018`."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}" if month else "TBC"


def label_step(span: int) -> int:
    """Months between labels: every month, else every quarter, half year, year, …"""
    return next((s for s in (1, 3, 6, 12, 24, 60) if span // s <= 16), 120)


def colour(n: int) -> tuple[str, str]:
    """The stroke colour and dash pattern of the n-th series (0-based)."""
    return COLOURS[n % len(COLOURS)], DASHES[(n // len(COLOURS)) % len(DASHES)]


def trend_chart(series: Sequence[dict[str, Any]], report_months: Sequence[str]) -> str:
    """The chart: `series` one per milestone with `points` [(report month, due month)], in
    the order they are numbered (1, 2, …) at their line's end and in the legend."""
    dues = [due for s in series for _m, due in s["points"] if due]
    if not series or not report_months or not dues:
        return ""
    x_lo, x_hi = index(report_months[0]), index(report_months[-1])
    y_lo = min(x_lo, *(index(d) for d in dues))
    y_hi = max(x_hi, *(index(d) for d in dues))
    x_span, y_span = max(x_hi - x_lo, 1), max(y_hi - y_lo, 1)
    stacked = Counter((s["points"][-1][0], s["points"][-1][1]) for s in series
                      if s["points"] and s["points"][-1][1])
    right = 16 + 14 * max(stacked.values(), default=1)
    plot_w = WIDTH - LEFT - right
    plot_h = max(220, min(460, 16 * y_span))
    height = TOP + plot_h + BOTTOM

    def x(month: str) -> float:
        return round(LEFT + plot_w * (index(month) - x_lo) / x_span, 2)

    def y(month: str) -> float:
        return round(TOP + plot_h - plot_h * (index(month) - y_lo) / y_span, 2)

    parts = [f'<svg id="mta" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-label="Milestone trend '
             f'chart">', f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
             'fill="#fcfcfc" stroke="#888"/>']
    parts += _axes(x_lo, x_hi, y_lo, y_hi, x, y, plot_w, plot_h)
    low, high = max(x_lo, y_lo), min(x_hi, y_hi)
    if low <= high:
        a, b = month_of(low), month_of(high)
        parts.append(f'<line class="diagonal" x1="{x(a)}" y1="{y(a)}" x2="{x(b)}" y2="{y(b)}" '
                     'stroke="#999" stroke-width="1.2"><title>the target is the month itself'
                     '</title></line>')
    ends: Counter[tuple[str, str]] = Counter()
    for n, milestone in enumerate(series):
        parts.append(_series(n, milestone, x, y, ends))
    parts.append("</svg>")
    return "".join(parts)


def _axes(x_lo: int, x_hi: int, y_lo: int, y_hi: int, x: Any, y: Any, plot_w: float,
          plot_h: float) -> list[str]:
    """Grid, ticks and month labels of both axes, and the axis titles."""
    parts = []
    base = TOP + plot_h
    step = label_step(x_hi - x_lo)
    for number in range(x_lo, x_hi + 1):
        month = month_of(number)
        parts.append(f'<line x1="{x(month)}" y1="{base}" x2="{x(month)}" y2="{base + 4}" '
                     'stroke="#888"/>')
        if number % step == 0 or (number == x_lo and step == 1):
            parts.append(f'<line x1="{x(month)}" y1="{TOP}" x2="{x(month)}" y2="{base}" '
                         'stroke="#e6e6e6"/>')
            parts.append(f'<text class="x-label" data-month="{month}" x="{x(month)}" '
                         f'y="{base + 16}" text-anchor="middle">{MONTHS[number % 12]}'
                         f'<tspan x="{x(month)}" dy="12">{number // 12}</tspan></text>')
    step = label_step(y_hi - y_lo)
    for number in range(y_lo, y_hi + 1):
        month = month_of(number)
        parts.append(f'<line x1="{LEFT - 4}" y1="{y(month)}" x2="{LEFT}" y2="{y(month)}" '
                     'stroke="#888"/>')
        if number % step == 0 or (number == y_lo and step == 1):
            parts.append(f'<line x1="{LEFT}" y1="{y(month)}" x2="{LEFT + plot_w}" '
                         f'y2="{y(month)}" stroke="#e6e6e6"/>')
            parts.append(f'<text class="y-label" data-month="{month}" x="{LEFT - 7}" '
                         f'y="{y(month) + 3.5}" text-anchor="end">{long_month(month)}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{base + 48}" text-anchor="middle" '
                 'class="axis-title">the plan as it stood at the end of the month</text>')
    parts.append(f'<text x="12" y="{TOP + plot_h / 2}" transform="rotate(-90 12 '
                 f'{TOP + plot_h / 2})" text-anchor="middle" class="axis-title">month the '
                 'milestone was due</text>')
    return parts


def _series(n: int, milestone: dict[str, Any], x: Any, y: Any,
            ends: Counter[tuple[str, str]]) -> str:
    """One milestone's step line, a dot at each move, its number at its end. The line is
    shifted a pixel or two (by its number) so that lines sharing a path lie side by side."""
    stroke, dash = colour(n)
    shift = SHIFT * (n % 5 - 2)
    parts = [f'<g class="series" data-milestone="{text(milestone["key"])}" '
             f'transform="translate({shift} {shift})"><title>{n + 1}: '
             f'{text(milestone["label"])}</title>']
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    path, dots, last = [], [], ("", "")
    for month, due in milestone["points"]:
        if not due:
            last = ("", "")  # no target then (TBC): the line breaks
            continue
        if not last[1]:
            path.append(f"M{x(month)} {y(due)}")
            dots.append(f'<circle cx="{x(month)}" cy="{y(due)}" r="2.6" fill="#fff" '
                        f'stroke="{stroke}"/>')
        else:
            path.append(f"H{x(month)}")
            if due != last[1]:
                path.append(f"V{y(due)}")
                dots.append(f'<circle cx="{x(month)}" cy="{y(due)}" r="2.6" fill="{stroke}"/>')
        last = (month, due)
    parts += [f'<path d="{" ".join(path)}" fill="none" stroke="{stroke}" stroke-width="2"'
              f'{dashed}/>', *dots]
    if last[1]:
        ends[last] += 1
        parts.append(f'<text x="{x(last[0]) + 4 + 14 * (ends[last] - 1)}" y="{y(last[1]) + 4}" '
                     f'fill="{stroke}" class="series-end">{n + 1}</text>')
    parts.append("</g>")
    return "".join(parts)
