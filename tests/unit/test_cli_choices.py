"""The CLI's fixed choices are the importers' own names, spelt once."""

from ledger.importers import cgip, kerslake, structured
from ledger.importers.model import DocumentFormat


def test_import_formats_are_the_readers_formats() -> None:
    """`ledger import --format` offers exactly the FORMAT of each reader."""
    assert set(DocumentFormat) == {cgip.FORMAT, kerslake.FORMAT, structured.FORMAT}
