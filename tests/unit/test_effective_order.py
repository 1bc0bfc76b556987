"""The fold reads events in effective order: any interleaving of backdated and current events
gives, for every as-of date, the answer of a reference that knows nothing of recording order."""

from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.item import Item
from ledger.domain.state import fold
from ledger.domain.values import Basis, Provenance, Rag

START = date(2018, 6, 30)
MONTHS = ("2018-07", "2018-08", "2018-09", "2018-10", "2018-11", "2018-12", "2019-01")
LEADS = ("Chief Executive", "City Solicitor", "Monitoring Officer")

# A statement: (what, value, days after START it takes effect). One per (what, day): the
# reference needs no tie-break, so recording order cannot matter.
statements = st.lists(
    st.tuples(st.sampled_from(("target", "lead", "rag")), st.integers(0, 6),
              st.integers(1, 200)),
    min_size=1, max_size=25, unique_by=lambda s: (s[0], s[2]))


def value(what: str, index: int) -> str:
    return {"target": MONTHS, "lead": LEADS, "rag": tuple(r.value for r in Rag)}[what][
        index % (7 if what == "target" else 3)]


def reference(made: list[tuple[str, int, int]], what: str, day: date) -> str | None:
    """The value in force on `day`: the statement with the latest effective date by then."""
    in_force = sorted((offset, v) for w, v, offset in made
                      if w == what and START + timedelta(offset) <= day)
    return value(what, in_force[-1][1]) if in_force else None


@settings(max_examples=60, deadline=None)
@given(made=statements, order=st.randoms(use_true_random=False))
def test_any_recording_order_gives_the_reference_answer_on_every_date(
    made: list[tuple[str, int, int]], order: random.Random,
) -> None:
    """Record the statements in a random order: targets, leads and RAG on every date are the
    reference's; the baseline is the earliest target in effective time, and the moves are
    the changes of target in effective order."""
    item = Item.add("p", "1.1", "1", "An aim", "", Provenance("x", START, "t"))
    shuffled = list(made)
    order.shuffle(shuffled)
    for what, index, offset in shuffled:
        prov = Provenance("x", START + timedelta(offset), "t", basis=Basis.REPORTED,
                          edition="2018-09")
        if what == "target":
            item.state_outcome(1, "the outcome", "the outcome", value(what, index), "", prov)
        elif what == "lead":
            item.state_leads([], [value(what, index)], prov)
        else:
            item.state_rag("", Rag(value(what, index)), prov)
    days = sorted({START + timedelta(offset) for _w, _v, offset in made}
                  | {START + timedelta(offset - 1) for _w, _v, offset in made})
    for day in days:
        state = fold(item.history, day, assume=False)
        assert state is not None
        outcome = next(iter(state.outcomes.values()), None)
        assert (outcome.due if outcome else None) == reference(made, "target", day)
        assert (state.leads[0] if state.leads else None) == reference(made, "lead", day)
        assert (state.rag or None) == reference(made, "rag", day)
    targets = sorted((offset, value("target", v)) for w, v, offset in made if w == "target")
    final = fold(item.history)
    assert final is not None
    if targets:
        outcome = final.outcomes[1]
        assert outcome.baseline_due == targets[0][1]
        changes = [(a, b) for (_o1, a), (_o2, b) in pairwise(targets) if a != b]
        assert [(m.before, m.after) for m in outcome.moves] == changes
