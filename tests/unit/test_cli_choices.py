"""The CLI's fixed choices are the domain's and the importers' own names, spelt once each."""

from ledger.cli.importing import DocumentFormat
from ledger.importers import cgip, detect, kerslake, structured


def test_import_formats_are_the_readers_kinds() -> None:
    """`ledger import --format` offers exactly the KIND of each reader, and detection's list."""
    kinds = {cgip.KIND, kerslake.KIND, structured.KIND}
    assert {f.value for f in DocumentFormat} == kinds == set(detect.FORMATS)
