"""Attack round 2: forged workbooks, read-only writes, hostile report text, CSV and queries.

Each finding is a test of the behaviour the README promises; all are fixed (the last two,
12: "; " inside a name in a joined CSV cell, and 16: wide characters in `log` and `history`
lines, were strict xfails until `ledger.export.flat.entry` and `ledger.cli.output.cells`).
Findings 1-10 (forged workbooks both verifiers accepted) are fixed by rebuilding every part of
the workbook and comparing bytes (`ledger.export.sheets`); their forgeries are written against
that layout."""

# ruff: noqa: F811 - the forgery module's fixtures, imported by name, are test parameters
from __future__ import annotations

import re
from pathlib import Path

from ledger.cli.app import app as cli_app
from tests.conftest import Cli, csv_text
from tests.e2e.test_pack_forgery import (  # noqa: F401 - fixtures used by name
    Council,
    council,
    pack,
    reseal,
    rezip,
    run_verifier,
)

PLAN_SHEET = "xl/worksheets/sheet2.xml"
SLIPPAGE_SHEET = "xl/worksheets/sheet4.xml"
COVER_SHEET = "xl/worksheets/sheet1.xml"
CONTENT_TYPES = "[Content_Types].xml"
STATUS = "In progress – completion slipped".encode()


def both_refuse(council: Council, pack: Path) -> tuple[int, str, int, str]:
    """Both verifiers' exit codes and words for `pack`, the council's key named."""
    result = council.cli.runner.invoke(
        cli_app,
        ["--db", council.cli.db, "verify-pack", str(pack), "--key", str(council.public)])
    got, said = run_verifier(council, pack, "--key", str(council.public))
    return result.exit_code, result.stdout + result.stderr, got, said


def assert_refused(council: Council, pack: Path) -> None:
    code, out, stdlib_code, stdlib_out = both_refuse(council, pack)
    assert (code, stdlib_code) == (1, 1), (
        f"ledger verify-pack exited {code}, verify_pack.py {stdlib_code}: "
        f"{out[-200:]} / {stdlib_out[-200:]}")


def forge_workbook(pack: Path, council: Council, change: object) -> None:
    rezip(pack / "workbook.xlsx", change)  # type: ignore[arg-type]
    reseal(pack, council.key)


def first_status_cell(sheet: bytes) -> tuple[int, int]:
    """Start and end of the first plan-sheet cell that says the item's completion slipped."""
    end = sheet.index(STATUS)
    start = sheet.rindex(b"<c ", 0, end)
    return start, sheet.index(b"</c>", end) + len(b"</c>")


# --- 1. the workbook: what Excel shows is not what the verifiers compare ------------------


def test_a_number_format_that_shows_other_text_is_refused(council: Council, pack: Path) -> None:
    """A cell given a custom number format whose text section is a literal (`;;;"Complete"`),
    so that Excel shows "Complete" for "In progress – completion slipped", fails both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        styles = parts["xl/styles.xml"]
        styles = styles.replace(b'<numFmts count="0" />', b'<numFmts count="1"><numFmt '
                                b'numFmtId="164" formatCode=";;;&quot;Complete&quot;"/></numFmts>')
        count = int(re.search(rb'<cellXfs count="(\d+)"', styles).group(1))  # type: ignore[union-attr]
        styles = styles.replace(f'<cellXfs count="{count}">'.encode(),
                                f'<cellXfs count="{count + 1}">'.encode())
        styles = styles.replace(b"</cellXfs>", b'<xf numFmtId="164" fontId="0" fillId="0" '
                                b'borderId="0" applyNumberFormat="1" xfId="0" /></cellXfs>')
        parts["xl/styles.xml"] = styles
        sheet = parts[PLAN_SHEET]
        start, end = first_status_cell(sheet)
        cell = re.sub(rb' s="\d+"', b"", sheet[start:end]).replace(
            b"<c ", f'<c s="{count}" '.encode(), 1)
        parts[PLAN_SHEET] = sheet[:start] + cell + sheet[end:]
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_cell_without_a_reference_is_refused(council: Council, pack: Path) -> None:
    """A cell written without its `r` reference (which Excel places after the cell before it:
    here in the empty RAG cell G2, as "green") fails both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts[PLAN_SHEET]
        after_f2 = re.search(rb'<c r="F2"[^>]*>.*?</c>', sheet)
        assert after_f2 is not None
        assert b'<c r="G2"' not in sheet  # the RAG cell is empty: no cell
        parts[PLAN_SHEET] = (sheet[:after_f2.end()] + b'<c t="inlineStr"><is><t>green</t></is>'
                             b"</c>" + sheet[after_f2.end():])
    forge_workbook(pack, council, change)
    from openpyxl import load_workbook  # noqa: PLC0415 - a spreadsheet reader, as Excel is

    assert load_workbook(pack / "workbook.xlsx", read_only=True)["plan"]["G2"].value == "green"
    assert_refused(council, pack)


def test_an_extra_column_without_references_is_refused(council: Council, pack: Path) -> None:
    """Extra cells past the last column of a row, written without `r` (Excel shows them in
    the next columns), fail both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts[PLAN_SHEET]
        end = sheet.index(b"</row>", sheet.index(b'<row r="2"'))
        parts[PLAN_SHEET] = (sheet[:end] + b'<c t="inlineStr"><is><t>auditor: verified '
                             b"complete</t></is></c>" + sheet[end:])
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_text_box_drawn_over_the_cells_is_refused(council: Council, pack: Path) -> None:
    """A drawing part (a text box anchored over the plan sheet's status column, saying
    "Complete") fails both verifiers: a pack's workbook holds cells, not shapes over them."""
    drawing = (
        b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDraw'
        b'ing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnch'
        b'or><xdr:from><xdr:col>7</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:r'
        b'owOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff>'
        b'<xdr:row>40</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink="">'
        b'<xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr>'
        b'<xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val='
        b'"FFFFFF"/></a:solidFill></xdr:spPr><xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Complete</a'
        b':t></a:r></a:p></xdr:txBody></xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>')

    def change(parts: dict[str, bytes]) -> None:
        parts["xl/drawings/drawing1.xml"] = drawing
        parts["xl/worksheets/_rels/sheet2.xml.rels"] = (
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006'
            b'/relationships/drawing" Target="../drawings/drawing1.xml"/></Relationships>')
        parts[CONTENT_TYPES] = parts[CONTENT_TYPES].replace(
            b"</Types>", b'<Override PartName="/xl/drawings/drawing1.xml" ContentType="application'
            b'/vnd.openxmlformats-officedocument.drawing+xml"/></Types>')
        sheet = parts[PLAN_SHEET].replace(
            b"<worksheet ", b'<worksheet xmlns:r="http://schemas.openxmlformats.org/officeDocume'
            b'nt/2006/relationships" ', 1)
        parts[PLAN_SHEET] = sheet.replace(b"</worksheet>", b'<drawing r:id="rId1"/></worksheet>')
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_hidden_rows_are_refused(council: Council, pack: Path) -> None:
    """Rows marked hidden (every slipped item's row on the plan sheet, so Excel shows none
    slipped) fail both verifiers: a row the events give is one an auditor sees."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts[PLAN_SHEET]
        out, hidden = [], 0
        for row in re.split(rb"(?=<row )", sheet):
            slipped = STATUS in row
            hidden += slipped
            out.append(row.replace(b"<row ", b'<row hidden="1" ', 1) if slipped else row)
        assert hidden
        parts[PLAN_SHEET] = b"".join(out)
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_hidden_sheet_is_refused(council: Council, pack: Path) -> None:
    """The slippage sheet made "veryHidden" (Excel offers no way to unhide it) fails both
    verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        book = parts["xl/workbook.xml"]
        assert b'name="slippage" sheetId="4"' in book
        parts["xl/workbook.xml"] = book.replace(b'name="slippage" sheetId="4"',
                                                b'name="slippage" sheetId="4" state="veryHidden"')
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_cell_comments_are_refused(council: Council, pack: Path) -> None:
    """A comments part (a note on the status cell: "Auditor: confirmed complete") fails both
    verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        parts["xl/comments1.xml"] = (
            b'<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors>'
            b'<author>Auditor</author></authors><commentList><comment ref="H2" authorId="0"><text>'
            b'<t>Auditor: confirmed complete</t></text></comment></commentList></comments>')
        parts["xl/worksheets/_rels/sheet2.xml.rels"] = (
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006'
            b'/relationships/comments" Target="../comments1.xml"/></Relationships>')
        parts[CONTENT_TYPES] = parts[CONTENT_TYPES].replace(
            b"</Types>", b'<Override PartName="/xl/comments1.xml" ContentType="application/vnd.'
            b'openxmlformats-officedocument.spreadsheetml.comments+xml"/></Types>')
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_data_validation_prompt_is_refused(council: Council, pack: Path) -> None:
    """A data validation whose input message pops up on the status cell ("Verified complete
    by the auditor") fails both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        assert b"</worksheet>" in parts[PLAN_SHEET]
        parts[PLAN_SHEET] = parts[PLAN_SHEET].replace(
            b"</worksheet>", b'<dataValidations count="1"><dataValidation type="none" allowBlank'
            b'="1" showInputMessage="1" promptTitle="Auditor" prompt="Verified complete by the '
            b'auditor" sqref="H2:H200"/></dataValidations></worksheet>', 1)
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_conditional_format_formula_is_refused(council: Council, pack: Path) -> None:
    """A conditional format whose rule is a formula (the README: no formulas) and whose style
    shows every status cell as "Complete" fails both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        styles = parts["xl/styles.xml"]
        styles = re.sub(rb"<dxfs[^>]*/>|<dxfs.*?</dxfs>", b"", styles, flags=re.S)
        styles = styles.replace(b"</styleSheet>", b'<dxfs count="1"><dxf><numFmt numFmtId="164" '
                                b'formatCode=";;;&quot;Complete&quot;"/></dxf></dxfs>'
                                b"</styleSheet>", 1)
        parts["xl/styles.xml"] = styles
        parts[PLAN_SHEET] = parts[PLAN_SHEET].replace(
            b"</worksheet>", b'<conditionalFormatting sqref="H2:H200"><cfRule type="expression" '
            b'dxfId="0" priority="1"><formula>ISTEXT(H2)</formula></cfRule>'
            b"</conditionalFormatting></worksheet>", 1)
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_defined_name_holding_a_formula_is_refused(council: Council, pack: Path) -> None:
    """A built-in defined name (`_xlnm.Print_Titles`) whose value is a formula calling
    WEBSERVICE fails both verifiers: the README says the workbook holds no formulas."""
    def change(parts: dict[str, bytes]) -> None:
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            b"<definedNames>", b'<definedNames><definedName name="_xlnm.Print_Titles" '
            b'localSheetId="1">WEBSERVICE("http://evil.example/")</definedName>', 1)
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_invisible_rich_text_runs_are_refused(council: Council, pack: Path) -> None:
    """A status cell written as rich text whose run " – completion slipped" is 1-point white
    (Excel shows "In progress") fails both verifiers, though its runs join to the events' text."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts[PLAN_SHEET]
        start, end = first_status_cell(sheet)
        cell = sheet[start:end]
        assert b'<is><t xml:space="preserve">' + STATUS + b"</t></is>" in cell
        cell = cell.replace(b'<is><t xml:space="preserve">' + STATUS + b"</t></is>",
                            b"<is><r><t>In progress</t></r><r><rPr><sz val=\"1\"/><color rgb="
                            b"\"FFFFFFFF\"/></rPr><t xml:space=\"preserve\">"
                            + " – completion slipped".encode() + b"</t></r></is>")
        cell = re.sub(rb' s="\d+"', b"", cell)  # and without the red fill
        parts[PLAN_SHEET] = sheet[:start] + cell + sheet[end:]
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_text_written_as_a_number_is_refused(council: Council, pack: Path) -> None:
    """Item "1.10" written as a number cell (Excel shows 1.1, another item) fails both
    verifiers: a text cell of the CSV is a text cell of the workbook."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts[PLAN_SHEET]
        found = re.search(rb'<c r="(C\d+)" t="inlineStr"><is><t xml:space="preserve">1\.10</t>'
                          rb"</is></c>", sheet)
        assert found
        parts[PLAN_SHEET] = sheet.replace(
            found.group(), b'<c r="' + found.group(1) + b'" t="n"><v>1.10</v></c>')
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_number_written_as_text_or_boolean_is_refused(council: Council, pack: Path) -> None:
    """slip_count cells written as text (Excel's SUM skips them, so the sheet's total is not
    the pack's) and an outcome number written as a boolean (TRUE) fail both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        sheet = parts[SLIPPAGE_SHEET]
        sheet, count = re.subn(rb'<c r="(I\d+)"><v>(\d+)</v></c>',
                              rb'<c r="\1" t="inlineStr"><is><t>\2</t></is></c>', sheet)
        assert count
        assert b'<c r="C2"><v>1</v></c>' in sheet
        parts[SLIPPAGE_SHEET] = sheet.replace(b'<c r="C2"><v>1</v></c>',
                                              b'<c r="C2" t="b"><v>1</v></c>', 1)
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_a_second_zip_entry_of_the_same_name_is_refused(council: Council, pack: Path) -> None:
    """A workbook holding two entries named xl/worksheets/sheet2.xml (a lie first, the truth
    last, which Python's zipfile reads) fails both verifiers."""
    import warnings  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    path = pack / "workbook.xlsx"
    with zipfile.ZipFile(path) as archive:
        parts = [(name, archive.read(name)) for name in archive.namelist()]
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")
        for name, data in parts:
            if name == PLAN_SHEET:
                archive.writestr(name, data.replace(STATUS, b"Complete"))
            archive.writestr(name, data)
    reseal(pack, council.key)
    assert_refused(council, pack)


def test_a_sheet_named_by_a_path_that_is_not_normal_is_refused(council: Council, pack: Path
                                                                ) -> None:
    """A workbook whose relationship names the plan sheet `/xl/worksheets/./sheet2.xml` (the
    truth, read literally by the verifiers) while `xl/worksheets/sheet2.xml`, which an OPC
    reader normalising the URI (RFC 3986) opens, says "Complete", fails both verifiers."""
    def change(parts: dict[str, bytes]) -> None:
        truth = parts[PLAN_SHEET]
        parts["xl/worksheets/./sheet2.xml"] = truth
        parts[PLAN_SHEET] = truth.replace(STATUS, b"Complete")
        assert b'Target="worksheets/sheet2.xml"' in parts["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b'Target="worksheets/sheet2.xml"', b'Target="worksheets/./sheet2.xml"')
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


def test_document_properties_that_lie_are_refused(council: Council, pack: Path) -> None:
    """docProps/core.xml given a title and description ("Audited: no slippage") that Excel shows
    in File > Info fails both verifiers: the workbook's properties are the pack's."""
    def change(parts: dict[str, bytes]) -> None:
        assert "docProps/core.xml" not in parts  # the pack's workbook has no properties
        parts["docProps/core.xml"] = (
            b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>'
            b"Audited: no slippage</dc:title><dc:description>Every item verified complete by "
            b"the external auditor</dc:description></cp:coreProperties>")
        parts["_rels/.rels"] = parts["_rels/.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.'
            b'org/package/2006/relationships/metadata/core-properties" Target="docProps/core.'
            b'xml"/></Relationships>')
    forge_workbook(pack, council, change)
    assert_refused(council, pack)


# --- 3. the committee report -------------------------------------------------------------


def test_a_long_word_in_the_plan_title_does_not_widen_the_report(tmp_path: Path) -> None:
    """A plan title with a 400-character word keeps report.html within 1400 px (the cover's
    heading wraps it as table cells do), as the README promises for every page."""
    import subprocess  # noqa: PLC0415

    from tests.e2e.test_evidence_pack import CHROMIUM_FLAGS, tool  # noqa: PLC0415

    cli = Cli(f"sqlite:///{tmp_path / 'ledger.db'}")
    cli("init")
    cli("new-plan", "wide", "--title", "Plan " + "W" * 400)
    cli("--plan", "wide", "add-theme", "1", "Theme")
    cli("--plan", "wide", "add-item", "1.1", "--theme", "1", "--aim", "aim")
    cli("--plan", "wide", "export", "--out", str(tmp_path / "pack"), "--no-pdf")
    html = (tmp_path / "pack" / "report.html").read_text(encoding="utf-8")
    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", "<script>document.body.setAttribute('data-fit',"
                                     " document.documentElement.scrollWidth)</script></body>"),
                        encoding="utf-8")
    dom = subprocess.run([tool("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                          "--window-size=1400,1000", "--dump-dom", measured.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    fit = re.search(r'data-fit="(\d+)"', dom)
    assert fit, dom[-300:]
    assert int(fit.group(1)) <= 1400


# --- 2. CSV: flat cells that say something other than the JSON ---------------------------


def _moved_twice(tmp_path: Path) -> Cli:
    cli = Cli(f"sqlite:///{tmp_path / 'ledger.db'}")
    cli("init")
    cli("new-plan", "p", "--title", "P")
    for args in (("add-theme", "1", "Theme", "--effective", "2018-01-01"),
                 ("add-item", "1.1", "--theme", "1", "--aim", "aim", "--effective", "2018-01-01"),
                 ("add-outcome", "1.1", "thing", "--due", "2018-09", "--effective", "2018-01-01"),
                 ("target", "1.1", "1", "2018-12", "--by", "alice; bob", "--effective",
                  "2018-08-01"),
                 ("target", "1.1", "1", "2019-03", "--by", "carol", "--effective", "2018-11-01"),
                 ("lead", "1.1", "Smith; Jones")):
        cli("--plan", "p", *args)
    return cli


def test_moves_by_names_one_recorder_per_move(tmp_path: Path) -> None:
    """slippage's CSV gives one `moves_by` entry per move (splitting on "; " pairs each move
    with who made it, as the README says they are "in the same order"), even when a name
    holds "; "; likewise `leads` holds as many entries as the JSON's list."""
    import csv  # noqa: PLC0415
    import json  # noqa: PLC0415


    cli = _moved_twice(tmp_path)
    moves = json.loads(cli("--plan", "p", "slippage", "--format", "json"))[0]["moves"]
    assert [m["by"] for m in moves] == ["alice; bob", "carol"]
    row = next(csv.DictReader(csv_text(cli("--plan", "p", "slippage", "--format", "csv"))))
    assert len(row["moves_by"].split("; ")) == len(row["moves"].split("; ")) == 2
    assert row["moves_by"] == "alice%3B bob; carol"  # docs/CSV.md: an item's ";" is %3B
    plan = next(csv.DictReader(csv_text(cli("--plan", "p", "plan", "--format", "csv"))))
    assert len(plan["leads"].split("; ")) == 1
    assert plan["leads"].replace("%3B", ";").replace("%25", "%") == "Smith; Jones"


# --- 4. restatements, lateness, target moves: wrong answers and bad input accepted --------


def test_a_backdated_target_move_is_not_silently_lost(tmp_path: Path) -> None:
    """`ledger target` effective before its outcome was added either is refused (exit 2) or
    shows in slippage and plan: it must not print "now due 2019-05" while every view still
    says 2019-01 with no slip."""
    import json  # noqa: PLC0415


    cli = Cli(f"sqlite:///{tmp_path / 'ledger.db'}")
    cli("init")
    cli("new-plan", "p", "--title", "P")
    cli("--plan", "p", "add-theme", "1", "Theme")
    cli("--plan", "p", "add-item", "1.1", "--theme", "1", "--aim", "aim")
    cli("--plan", "p", "add-outcome", "1.1", "thing", "--due", "2019-01")
    result = cli.runner.invoke(cli_app,
                               ["--db", cli.db, "--plan", "p", "target", "1.1", "1", "2019-05",
                                "--effective", "2018-06-01"], env={"LEDGER_ACTOR": "tester"})
    assert result.exit_code == 2, result.output
    assert "a move of its target cannot take effect before that" in result.stderr
    slip = json.loads(cli("--plan", "p", "slippage", "--format", "json"))[0]
    assert (slip["current_due"], slip["slip_count"]) == ("2019-01", 0), slip  # nothing written


def test_a_month_in_other_scripts_digits_is_refused(tmp_path: Path) -> None:
    """`--month` in full-width or Arabic-Indic digits ("２０１８-０９") is exit 2, as "YYYY-MM"
    (ASCII) is what the README takes; it is not silently read as 2018-09."""

    cli = _moved_twice(tmp_path)
    err = cli("--plan", "p", "restatements", "--month", "２０１８-０９", code=2)
    assert "not a month" in err
    cli("--plan", "p", "update", "1.1", "text", "--month", "٢٠١٨-٠٩", code=2)


def test_late_days_without_late_is_refused(tmp_path: Path) -> None:
    """`changes --late-days N` without `--late` is exit 2 (a filter that does nothing), not
    silently every change."""

    cli = _moved_twice(tmp_path)
    cli("--plan", "p", "changes", "--late-days", "5", code=2)


# --- 6. log and history on a terminal ----------------------------------------------------


def test_log_and_history_lines_fit_columns_with_wide_characters(tmp_path: Path) -> None:
    """With COLUMNS=80, no line of `log` or `history` is wider than 80 terminal cells when
    names and notes are CJK (each character two cells wide) or emoji."""
    import unicodedata  # noqa: PLC0415


    def cells(line: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)

    cli = Cli(f"sqlite:///{tmp_path / 'ledger.db'}")
    cli("init")
    cli("new-plan", "p", "--title", "P")
    wide = "中文全角文字" * 6
    cli("--plan", "p", "add-theme", "1", "Theme")
    cli("--plan", "p", "add-item", "1.1", "--theme", "1", "--aim", "aim " + wide)
    cli("--plan", "p", "add-outcome", "1.1", "thing", "--due", "2019-01", "--by", wide[:30])
    cli("--plan", "p", "target", "1.1", "1", "2019-05", "--by", wide[:30], "--note", "🎉" * 40)
    for command in (("log",), ("history", "1.1")):
        out = cli("--plan", "p", *command, env={"COLUMNS": "80"})
        assert max(cells(line) for line in out.splitlines()) <= 80, (command, out)
