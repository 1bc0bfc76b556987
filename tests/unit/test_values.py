"""Months, days and RAG words: strict parsing with errors that name the value."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import InvalidInputError
from ledger.domain.values import month_end, months_between, parse_day, parse_month, parse_rag


def test_a_month_is_read_in_canonical_form() -> None:
    """`2018-9` is refused, `2018-09` kept."""
    assert parse_month("2018-09") == "2018-09"
    with pytest.raises(InvalidInputError, match="2018-9"):
        parse_month("2018-9")


@pytest.mark.parametrize("bad", ["2018-13", "2018-00", "9999-01", "0001-01", "Sept 2018", ""])
def test_an_impossible_month_is_refused(bad: str) -> None:
    """Month 13, year 9999 and words are not months, however often asked (the parser keeps
    its answers, never a refusal)."""
    for _ in range(3):
        with pytest.raises(InvalidInputError, match=f"{bad!r}"):
            parse_month(bad)
    assert parse_month(" 2018-09 ") == parse_month("2018-09") == "2018-09"


@pytest.mark.parametrize(
    "bad", ["2018-02-30", "2018-04-31", "2019-02-29", "18-02-01", "3000-01-01"],
)
def test_an_impossible_day_is_refused(bad: str) -> None:
    """30 February and 31 April do not exist; nor does year 3000 for a plan."""
    with pytest.raises(InvalidInputError, match=bad):
        parse_day(bad)


def test_a_leap_day_is_a_real_day() -> None:
    """29 February 2020 is accepted."""
    assert parse_day("2020-02-29") == date(2020, 2, 29)


def test_rag_words_are_case_blind_and_nothing_else_is_a_rag() -> None:
    """`Amber` is amber; `purple` names itself in the error."""
    assert parse_rag("Amber").value == "amber"
    with pytest.raises(InvalidInputError, match="purple"):
        parse_rag("purple")


def test_month_arithmetic() -> None:
    """A slip from September to November 2018 is two months; February 2020 ends on the 29th."""
    assert months_between("2018-09", "2018-11") == 2
    assert months_between("2018-11", "2019-01") == 2
    assert month_end("2020-02") == date(2020, 2, 29)
