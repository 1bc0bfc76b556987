"""What survives re-spelling: the identity of a text, and of a progress update without its month
tag or completion marker. Two editions that word a fact alike state the same fact. And how a
text is shown on a terminal without acting on it. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_TAG_GROUP = re.compile(r"[(\[][^()\[\]]*(?:update|(?:19|20)\d\d)[^()\[\]]*[)\]]", re.IGNORECASE)
COMPLETION = re.compile(r"\b(?:NOW\s+)?COMPLETE(?:\s+FOR\s+CABINET)?\b|\bComplete\.")
_WORD = re.compile(r"[a-z0-9£%]+")


def identity(text: str) -> str:
    """The words of a text, case and punctuation folded: what survives re-spelling."""
    return " ".join(_WORD.findall(text.lower()))


@lru_cache(maxsize=16_384)  # the runner folds an item's updates again on each catch-up
def update_identity(text: str) -> str:
    """An update's words without its month tag or completion marker: what a re-spelling keeps.

    Each pattern is run only where the text could hold it: a tag needs a bracket, a marker
    "COMPLETE" or "Complete." (replacing a tag with a space makes neither)."""
    if "(" in text or "[" in text:
        text = _TAG_GROUP.sub(" ", text)
    if "COMPLETE" in text or "Complete." in text:
        text = COMPLETION.sub(" ", text)
    return identity(text)


def shown(text: str) -> str:
    """Text safe to print on a terminal: every control character (escape sequences, bells,
    carriage returns) written as its escape, never sent; new lines and tabs kept."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """A suggestion for a name not known (" did you mean target_moved?"), else ""."""
    import difflib  # noqa: PLC0415 - only on an error: the CLI's start-up need not pay for it

    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""
