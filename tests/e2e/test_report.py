"""The pack's report as a committee reads it: printed on A4 by Chromium, looked at page by page.

One ledger (the September, October and November 2018 editions, three target moves by hand
and a hostile outcome) is exported once with its PDF; the tests read the PDF with poppler
(pdfinfo, pdftotext, pdftoppm) and the page with headless Chromium at 1400 px.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Cli, fresh_database
from tests.e2e.test_evidence_pack import CHROMIUM_FLAGS, tool
from tests.editions import SEPTEMBER, write_november, write_october

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
A4 = (594.96, 841.92)  # points, as pdfinfo prints them
HOSTILE = '</svg><script>alert("outcome")</script> & "quoted"'
# The council's RAG key, as the September 2018 edition prints it in every table heading.
RAG_KEY = "Green – complete / evaluated; Amber – on track; Red – off track"


@dataclass(frozen=True)
class Report:
    """The exported pack, what `ledger` says about the same ledger, and the PDF read."""

    pack: Path
    html: str
    digest: dict[str, str]
    slippage: list[dict[str, object]]
    pages: list[str]  # pdftotext of each page
    sizes: list[tuple[float, float]]  # each page's size in points


def month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Three editions, then by hand: 5.1's outcome 2 (due September 2018, so on the diagonal
    at the end of September) slips to November in October and to April 2019 in November;
    5.1's outcome 4 slips to July 2019; a hostile outcome of 4.1 slips; one export with PDF."""
    directory = tmp_path_factory.mktemp("report")
    with fresh_database("sqlite", directory) as url:
        cli = Cli(url)
        cli("init")
        for edition in (SEPTEMBER, write_october(directory), write_november(directory)):
            cli("import", str(edition))
        plan = ("--plan", "cgip-2018")
        cli(*plan, "target", "5.1", "2", "2018-11", "--effective", "2018-10-12", "--note",
            "consultation extended")
        cli(*plan, "target", "5.1", "2", "2019-04", "--effective", "2018-11-20", "--note",
            "Cabinet date moved")
        cli(*plan, "target", "5.1", "4", "2019-07", "--effective", "2018-11-05")
        cli(*plan, "add-outcome", "4.1", HOSTILE, "--due", "2018-10", "--effective",
            "2018-10-01")
        hostile = next(o["number"] for o in json.loads(cli(*plan, "plan", "--item", "4.1",
                                                           "-f", "json"))[0]["outcomes"]
                       if o["text"] == HOSTILE)
        cli(*plan, "target", "4.1", str(hostile), "2018-12", "--effective", "2018-10-20",
            "--note", "<b>moved</b></svg>")
        cli(*plan, "update", "4.1", "<script>alert(1)</script> =1+1", "--month", "2018-11",
            "--effective", "2018-11-25")
        out = directory / "pack"
        cli(*plan, "export", "--out", str(out))
        digest = json.loads(cli("digest"))
        slippage = json.loads(cli(*plan, "slippage", "--format", "json"))
    pdf = out / "report.pdf"
    info = subprocess.run([tool("pdfinfo"), "-f", "1", "-l", "999", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]
    pages = [subprocess.run([tool("pdftotext"), "-f", str(n), "-l", str(n), str(pdf),
                             "-"], check=True, capture_output=True, text=True).stdout
             for n in range(1, len(sizes) + 1)]
    return Report(out, (out / "report.html").read_text(encoding="utf-8"), digest, slippage,
                  pages, sizes)


def svg_of(html: str) -> ET.Element:
    start = html.index('<svg id="mta"')
    # The page is the ledger's own output, the subject of the test, not untrusted input.
    return ET.fromstring(html[start:html.index("</svg>", start) + len("</svg>")])  # noqa: S314


SVG = "{http://www.w3.org/2000/svg}"


def test_the_pdf_is_a4_with_page_n_of_m_on_every_page(report: Report) -> None:
    """Every page is A4 (pdfinfo: 594.96 x 841.92 pts), portrait until the change log's
    appendix, landscape from it; every page's text ends with "Page N of M"."""
    assert len(report.sizes) > 5
    appendix = next(n for n, text in enumerate(report.pages) if "Every change in scope" in text)
    assert report.sizes[:appendix] == [A4] * appendix
    assert report.sizes[appendix:] == [A4[::-1]] * (len(report.sizes) - appendix)
    total = len(report.pages)
    for number, text in enumerate(report.pages, 1):
        assert f"Page {number} of {total}" in text, (number, text[-200:])


def test_the_cover_states_the_digest_run_by_and_run_at(report: Report) -> None:
    """Page 1 holds the ledger digest `ledger digest` prints (head position, link, time), who
    ran the export and when (the manifest's run_by and run_at), and the parameters."""
    manifest = json.loads((report.pack / "manifest.json").read_text(encoding="utf-8"))
    cover = " ".join(report.pages[0].split())
    assert report.digest["hash"] in cover
    assert f"Ledger digest: head position {report.digest['position']}" in cover
    assert f"head witnessed at {report.digest['recorded_at']}" in cover
    assert f"Run by {manifest['run_by']}" in cover
    assert manifest["run_by"] == "tester"
    assert f"Run at {manifest['run_at']}" in cover
    assert "Plan cgip-2018: Birmingham City Council Corporate Governance Improvement Plan" in cover
    assert f"The plan as of {manifest['parameters']['as_of']}" in cover
    assert "Page 1 of" in cover


def test_the_plan_table_gives_each_outcomes_text_target_and_baseline(report: Report) -> None:
    """1.3's outcome, in September "Complete the constitutional review <b>(September 2018)</b>"
    and in November "(January 2019)", is listed with its text, target and baseline."""
    words = " ".join(re.sub(r"<[^>]+>", " ", report.html).split())
    assert ("Complete the constitutional review (January 2019) (due Jan 2019; baseline "
            "Sep 2018)") in words
    assert "Complete the constitutional review <b>(September 2018)</b>" in SEPTEMBER.read_text(
        encoding="utf-8")
    pdf = " ".join(" ".join(report.pages).split())
    assert "Well-organised, stable and effective political groups." in pdf  # 1.1's aim
    assert all(item in pdf for item in ("1.10", "4.13", "7.4"))


def test_the_chart_axes_are_months_in_date_order_evenly_spaced(report: Report) -> None:
    """Both axes' labels are months in date order, each calendar month one equal step (the
    x spacing per month is the same between every pair of labels), and each label reads as
    the month it stands at ("Sep 2018")."""
    svg = svg_of(report.html)
    for axis, coordinate in (("x-label", "x"), ("y-label", "y")):
        labels = [(e.get("data-month", ""), float(e.get(coordinate, "0")),
                   " ".join(" ".join(e.itertext()).split())) for e in svg.iter(f"{SVG}text")
                  if e.get("class") == axis]
        assert len(labels) >= 5, axis
        months = [month_number(m) for m, _at, _text in labels]
        assert months == sorted(months)
        assert len(set(months)) == len(months)
        steps = [(b[1] - a[1]) / (month_number(b[0]) - month_number(a[0]))
                 for a, b in itertools.pairwise(labels)]
        assert max(steps) - min(steps) <= 0.02, (axis, steps)  # coordinates are to 0.01 px
        assert abs(steps[0]) > 10, (axis, steps)
        assert all(text == f"{MONTHS[int(m[5:7]) - 1]} {m[:4]}" for m, _at, text in labels)
    xs = [e.get("data-month") for e in svg.iter(f"{SVG}text") if e.get("class") == "x-label"]
    assert xs == ["2018-07", "2018-08", "2018-09", "2018-10", "2018-11"]


def test_the_chart_draws_every_milestone_that_moved_and_says_so(report: Report) -> None:
    """One series per milestone whose target moved (as `ledger slippage` lists them), the
    same milestones, and the caption states the rule with the counts."""
    moved = [f"{r['item']} #{r['outcome_no']}" for r in report.slippage if r["moves"]]
    svg = svg_of(report.html)
    drawn = [g.get("data-milestone") for g in svg.iter(f"{SVG}g") if g.get("class") == "series"]
    assert drawn == moved
    assert len(moved) == 4  # 1.3 #5 (by two editions), 5.1 #2, 5.1 #4, 4.1's hostile one
    assert (f"Shown: every milestone whose target moved at least once by "
            f"{json.loads((report.pack / 'manifest.json').read_text())['parameters']['as_of']} "
            f"({len(moved)} of the ") in report.html
    assert "meeting the diagonal is a milestone reached" not in report.html


def test_a_slip_is_a_step_in_the_month_it_took_effect(report: Report) -> None:
    """5.1's outcome 2 is level at September 2018 (on the diagonal at September's end), then
    jumps straight up in October (to November 2018) and in November (to April 2019): the
    path is only level and vertical strokes, never a ramp."""
    svg = svg_of(report.html)
    x = {e.get("data-month"): float(e.get("x", "0")) for e in svg.iter(f"{SVG}text")
         if e.get("class") == "x-label"}
    y = {e.get("data-month"): float(e.get("y", "0")) - 3.5 for e in svg.iter(f"{SVG}text")
         if e.get("class") == "y-label"}
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("data-milestone") == "5.1 #2")
    path = next(group.iter(f"{SVG}path")).get("d", "")
    assert re.fullmatch(r"M[\d.]+ [\d.]+( [HV][\d.]+)+", path), path
    start, *strokes = path.split(" H", 1)[0], *("H" + path.split(" H", 1)[1]).split(" ")
    drawn = [(float(start[1:].split()[0]), float(start.split()[1]))]
    for stroke in strokes:
        at = float(stroke[1:])
        drawn.append((at, drawn[-1][1]) if stroke[0] == "H" else (drawn[-1][0], at))
    want = [("2018-08", "2018-09"), ("2018-09", "2018-09"), ("2018-10", "2018-09"),
            ("2018-10", "2018-11"), ("2018-11", "2018-11"), ("2018-11", "2019-04")]
    assert [c for p in drawn for c in p] == pytest.approx(
        [c for m, d in want for c in (x[m], y[d])], abs=0.01)


def test_the_heatmap_speaks_the_legends_words_in_their_colours(report: Report) -> None:
    """Cells say the 2015 legend's own words ("In progress – completion slipped"); Complete is
    green, In progress amber (the RAG key's "Amber – on track"), slipped red; the key is
    quoted as the council prints it."""
    assert RAG_KEY in SEPTEMBER.read_text(encoding="utf-8")
    assert RAG_KEY in report.html
    heat = report.html[report.html.index('<div id="heatmap">'):]
    cells = re.findall(r'<td class="(st-[a-z]+)">([^<*]+)', heat[:heat.index("</div>")])
    legend = {"Complete": "st-complete", "In progress": "st-progress",
              "In progress – completion slipped": "st-slipped", "TBC": "st-tbc",
              "Not started – completion slipped": "st-late",
              "Not due to have started": "st-notdue", "No progress reported": "st-none"}
    assert len(cells) > 200
    assert all(legend[word] == css for css, word in cells)
    assert {"Complete", "In progress", "In progress – completion slipped"} <= {
        word for _css, word in cells}
    assert ".st-complete{background:#2e7d32" in report.html  # green
    assert ".st-progress{background:#ffc000" in report.html  # amber, never green
    assert ".st-slipped{background:#c62828" in report.html  # red


def test_hostile_text_never_acts_as_markup(report: Report, tmp_path: Path) -> None:
    """An outcome `</svg><script>…` and a note `<b>moved</b></svg>` are shown as text: one
    </svg> in the page (the chart's own), no <script>, and Chromium's DOM has one svg, no
    script element, and Chromium logs no console error; the page loads nothing from outside."""
    assert report.html.count("</svg>") == 1
    assert "<script" not in report.html
    assert "&lt;/svg&gt;&lt;script&gt;alert(&quot;outcome&quot;)&lt;/script&gt;" in report.html
    done = subprocess.run([tool("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path}",
                           "--enable-logging=stderr", "--v=0", "--dump-dom",
                           (report.pack / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=120, check=True)
    dom = done.stdout
    assert "CONSOLE" not in done.stderr
    assert "Uncaught" not in done.stderr
    assert dom.count("<svg") == 1
    assert "<script" not in dom
    assert "<b>moved</b>" not in dom
    html = report.html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html


MEASURE = """<script>
let right = 0;
for (const e of document.querySelectorAll('body *')) {
  right = Math.max(right, e.getBoundingClientRect().right);
}
document.body.setAttribute('data-fit',
  document.documentElement.scrollWidth + ' ' + Math.ceil(right) + ' ' + window.innerWidth);
</script>"""


def test_the_page_fits_1400_px_and_the_pdf_fits_the_paper(report: Report, tmp_path: Path
                                                          ) -> None:
    """At 1400 px no element reaches past the window (Chromium measures every box); in the
    PDF every word lies inside the page's margins (pdftotext -bbox); the screenshot and the
    page images (pdftoppm -r 50) are made, one image a page, each A4 at 50 dpi."""
    measured = tmp_path / "measured.html"
    measured.write_text(report.html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1400,1000"]
    dom = subprocess.run([tool("chromium"), *flags, "--dump-dom", measured.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    fit = re.search(r'data-fit="(\d+) (\d+) (\d+)"', dom)
    assert fit, dom[-300:]
    width, right, window = map(int, fit.groups())
    assert window == 1400
    assert width <= 1400
    assert right <= 1400
    shot = tmp_path / "report-1400.png"
    subprocess.run([tool("chromium"), *flags, f"--screenshot={shot}",
                    (report.pack / "report.html").as_uri()], capture_output=True, timeout=120,
                   check=True)
    assert shot.read_bytes()[16:20] == (1400).to_bytes(4, "big")  # the PNG's width
    bbox = subprocess.run([tool("pdftotext"), "-bbox", str(report.pack / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    for page in re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', bbox, re.S):
        page_width = float(page[0])
        margin = 12 * 72 / 25.4 - 1  # the narrowest margin of the report's @page rules
        for x_min, x_max in re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"',
                                       page[1]):
            assert margin <= float(x_min)
            assert float(x_max) <= page_width - margin
    subprocess.run([tool("pdftoppm"), "-r", "50", "-png", str(report.pack / "report.pdf"),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=300)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(report.pages)
    for image in images:
        size = (int.from_bytes(image.read_bytes()[16:20], "big"),
                int.from_bytes(image.read_bytes()[20:24], "big"))
        assert abs(max(size) / min(size) - 297 / 210) < 0.01, (image.name, size)
        assert max(size) == 585, (image.name, size)  # 297 mm at 50 dpi
