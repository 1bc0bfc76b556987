"""A filter that names nothing the plan holds is an error, not an empty answer.

An unknown item, theme, change kind or source, or a range that ends before it starts, is exit 2
with one line and, where one is close, a suggestion ("did you mean target_moved?").
Items are every item the plan has ever held: one not yet in the plan on the date asked
about is a true empty answer, not a typo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.cli.context import fail
from ledger.domain.words import did_you_mean

if TYPE_CHECKING:
    from projections.queries import Reader


def check_filters(reader: Reader, plan: str, *, item: str | None = None,
                  theme: str | None = None, kind: str | None = None,
                  source: str | None = None) -> None:
    """Refuse (exit 2) an item, theme, kind or source that the plan does not hold."""
    if item is not None:
        items = {number for number in reader.streams(plan).values() if number}
        if item not in items:
            fail(f"plan {plan} has no item {item}{did_you_mean(item, sorted(items))}")
    if theme is not None:
        themes = (reader.plan_info(plan) or {}).get("themes", {})
        if theme not in themes:
            fail(f"plan {plan} has no theme {theme} (themes: {', '.join(themes) or 'none'})"
                 f"{did_you_mean(theme, themes)}")
    if kind is not None:
        from ledger.domain.events import KIND
        from projections.change_log import HIDDEN_KINDS

        kinds = sorted(set(KIND.values()) - set(HIDDEN_KINDS))
        if kind not in kinds:
            fail(f"no change is of kind {kind}{did_you_mean(kind, kinds)} (kinds: "
                 f"{', '.join(kinds)})")
    if source is not None:
        from projections.change_log import SOURCE_KINDS

        if source not in SOURCE_KINDS:
            fail(f"no change has source {source}{did_you_mean(source, SOURCE_KINDS)} "
                 f"(sources: {', '.join(SOURCE_KINDS)})")


def check_range(first: str | None, last: str | None, what: str) -> None:
    """Refuse a range whose end is before its start: it holds nothing."""
    if first is not None and last is not None and last < first:
        fail(f"{what}: {last} is before {first}, so the range is empty")
