"""An update's identity skips each pattern only where it cannot match: the same words as
running both patterns on every text, for any text (fuzzed) and the seeds' own forms."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.words import _TAG_GROUP, COMPLETION, identity, update_identity


def _both_patterns(text: str) -> str:
    return identity(COMPLETION.sub(" ", _TAG_GROUP.sub(" ", text)))


PIECES = ["(", ")", "[", "]", "update", "Update", "2018", "1999", "COMPLETE", "Complete.",
          "Complete", "NOW", "FOR", "CABINET", " ", "\n", "a", "é", "£", "%", "-", "."]


@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join) | st.text(max_size=60))
def test_the_same_words_as_both_patterns(text: str) -> None:
    assert update_identity.__wrapped__(text) == _both_patterns(text)


def test_the_seeds_forms() -> None:
    """Tags and markers as the editions write them are dropped; words elsewhere kept."""
    assert update_identity("(Sept update) Report drafted. NOW COMPLETE") == "report drafted"
    assert update_identity("[2019] Training Complete. Next: audit") == "training next audit"
    assert update_identity("Completed the review (see annex)") == "completed the review see annex"
    assert update_identity("COMPLETED in March") == "completed in march"
