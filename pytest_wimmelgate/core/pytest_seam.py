"""Where the plugin relies on pytest's private modules (pinned: pytest >=8.3,<10).

pytest offers no public API to evaluate a ``-m``/``-k`` expression: the gate run needs it
before collection (which checks a marker expression selects, to read only their sections
and start only what they need) and after it (why an item was deselected). Both use
``_pytest.mark``'s own `Expression` and matchers, so our answer is pytest's answer. CI runs
the suite once more against the newest pytest the pin allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest


def expression_matcher(text: str) -> Callable[[Callable[..., bool]], bool]:
    """A compiled ``-m``/``-k`` expression: call it with a name matcher."""
    from _pytest.mark.expression import Expression

    return Expression.compile(text).evaluate


def matches_keyword(item: pytest.Item, keyword: str) -> bool:
    """Whether ``-k keyword`` keeps ``item`` (pytest's own keyword rules)."""
    from _pytest.mark import KeywordMatcher

    return expression_matcher(keyword)(KeywordMatcher.from_item(item))


def matches_markers(item: pytest.Item, markexpr: str) -> bool:
    """Whether ``-m markexpr`` keeps ``item`` (pytest's own marker rules)."""
    from _pytest.mark import MarkMatcher

    return expression_matcher(markexpr)(MarkMatcher.from_markers(item.iter_markers()))


def names_matcher(names: Iterable[str]) -> Callable[..., bool]:
    """A matcher answering ``-m`` names from a set of marker names (marker arguments ignored)."""
    known = frozenset(names)

    def match(name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name in known

    return match
