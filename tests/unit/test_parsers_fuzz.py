"""Property-based tests: whatever the bytes, a reader answers with an edition or a DocumentError."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.importers.detect import read_document
from ledger.importers.model import DocumentError, DocumentFormat
from tests.editions import KERSLAKE, SEPTEMBER

SEPTEMBER_LINES = SEPTEMBER.read_text(encoding="utf-8").split("\n")
KERSLAKE_LINES = KERSLAKE.read_text(encoding="utf-8").split("\n")
FORMATS = st.sampled_from(["", *DocumentFormat])
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def reads_or_refuses(data: bytes, fmt: str = "") -> None:
    try:
        edition = read_document(data, "fuzz.md", fmt=fmt)
    except DocumentError as exc:
        message = str(exc)
    else:
        assert edition.items
        return
    assert message.startswith("fuzz.md")


@SETTINGS
@given(st.binary(max_size=2000), FORMATS)
def test_random_bytes_never_raise_anything_but_a_document_error(data: bytes, fmt: str) -> None:
    """Arbitrary bytes: an edition or a DocumentError naming the file, never a traceback."""
    reads_or_refuses(data, fmt)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("|<>/bpu *()[]-.:;\n1234567890 JulySeptUpdate")),
               max_size=3000), FORMATS)
def test_markup_soup_never_crashes_a_reader(text: str, fmt: str) -> None:
    """Table pipes, tags, brackets and month words in any order."""
    reads_or_refuses(text.encode(), fmt)


@pytest.mark.slow
@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=30))
def test_damaged_real_documents_never_crash(rng: random.Random, damage: int) -> None:
    """The real seeds with lines deleted, duplicated, cut or swapped."""
    for lines in (SEPTEMBER_LINES, KERSLAKE_LINES):
        copy = list(lines)
        for _ in range(damage):
            index = rng.randrange(len(copy))
            action = rng.randrange(4)
            if action == 0:
                del copy[index]
            elif action == 1:
                copy.insert(index, copy[rng.randrange(len(copy))])
            elif action == 2:
                copy[index] = copy[index][: rng.randrange(len(copy[index]) + 1)]
            else:
                other = rng.randrange(len(copy))
                copy[index], copy[other] = copy[other], copy[index]
        reads_or_refuses("\n".join(copy).encode())


def test_a_2015_plan_missing_the_line_an_aim_continues_on_is_read_or_refused() -> None:
    """Found by the fuzzer: plan 4's aims continue on lines read by their offset from the
    action's line; with such a line gone the reader raised KeyError. Now: an edition or a
    DocumentError, never a traceback."""
    start = next(i for i, line in enumerate(KERSLAKE_LINES) if line.strip() == "ACTION PLAN 4.")
    first = next(i for i in range(start, len(KERSLAKE_LINES))
                 if KERSLAKE_LINES[i].startswith("1 "))
    for cut in range(first + 1, first + 4):  # the document ends before the aim's next line
        reads_or_refuses("\n".join(KERSLAKE_LINES[:cut]).encode(),
                         DocumentFormat.KERSLAKE_2015.value)
