"""The size check of every event saved: each text of each field against its own limit."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import InvalidInputError
from ledger.domain.events import NAME_LIMIT, SOURCE_LIMIT, TEXT_LIMIT, check_sizes
from ledger.domain.item import Item
from ledger.domain.values import Provenance

LEAD = "ACE with Group Leaders / Deputy Leader"  # item 1.1's lead in the September 2018 edition


def prov(by: str = "clerk", source: str = "cli:test") -> Provenance:
    return Provenance(by, date(2018, 9, 30), source)


def item() -> Item:
    new = Item.add("cgip-2018", "1.1", "1", "Well-organised political groups", "", prov())
    new.collect_events()
    return new


def test_a_name_at_its_limit_passes_and_one_longer_is_refused_by_name() -> None:
    """A lead of exactly 200 characters is saved; 201 are refused, naming the field, the
    change and its limit."""
    ok, long = item(), item()
    ok.assign_lead(LEAD.ljust(NAME_LIMIT, "x"), prov())
    long.assign_lead(LEAD.ljust(NAME_LIMIT + 1, "x"), prov())
    check_sizes(ok.collect_events()[0])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^lead of this lead changed is 201 characters "
                                                r"long: at most 200 \(from cli:test\)"):
        check_sizes(long.collect_events()[0])  # type: ignore[arg-type]


def test_a_text_field_has_the_text_limit_and_the_source_its_own() -> None:
    """An update of 20,000 characters passes and one of 20,001 does not; a source (the
    document's line) may hold 65,000; a `--by` name over 200 is refused."""
    new = item()
    new.record_update("2018-09", "INLOGOV update report. ".ljust(TEXT_LIMIT, "x"),
                      prov(source="s".ljust(SOURCE_LIMIT, "x")))
    new.record_update("2018-09", "INLOGOV update report. ".ljust(TEXT_LIMIT + 1, "x"), prov())
    new.record_update("2018-09", "INLOGOV update report.", prov(by="b" * (NAME_LIMIT + 1)))
    fits, too_long, long_name = new.collect_events()
    check_sizes(fits)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^text of this update recorded is 20,001"):
        check_sizes(too_long)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^recorded_by of this update recorded is 201"):
        check_sizes(long_name)  # type: ignore[arg-type]


def test_texts_inside_lists_and_dicts_are_measured() -> None:
    """A lead over 200 characters inside a stated list of leads, and a corrected text over
    20,000 inside a correction's replacement, are refused like a plain field."""
    new = item()
    new.state_leads([], ["Chief Executive", LEAD.ljust(NAME_LIMIT + 1, "x")], prov())
    new.record_update("2018-09", "INLOGOV update report.", prov())
    new.correct(new.version, {"text": "y" * (TEXT_LIMIT + 1)}, Provenance(
        "clerk", date(2018, 9, 30), "cli:test", note="wrong figures"))
    leads, _update, correction = new.collect_events()
    with pytest.raises(InvalidInputError, match=r"^leads of this lead changed is 201"):
        check_sizes(leads)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"^replacement of this correction is 20,001"):
        check_sizes(correction)  # type: ignore[arg-type]


def test_a_revised_text_is_a_text_though_its_fields_are_called_before_and_after() -> None:
    """`before` and `after` are names (200) in a lead change, but texts (20,000) in a
    revision of an item's aim."""
    new = item()
    new.revise_text("aim", "Well-organised political groups ".ljust(5_000, "x"), prov())
    check_sizes(new.collect_events()[0])  # type: ignore[arg-type]
