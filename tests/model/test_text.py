"""The one normalisation function: entities, links, whitespace, cashtags."""

from __future__ import annotations

import pytest

from model.text import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Shares &amp; bonds rally", "Shares & bonds rally"),
        ("Double &amp;amp; escaped", "Double & escaped"),
        ("Stocks fall https://t.co/AbC123 today", "Stocks fall today"),
        ("See www.example.com/x now", "See now"),
        ("Buy\u00a0now\n\tplease  ", "Buy now please"),
        ("$aapl and $Tsla up", "$AAPL and $TSLA up"),
        ("$brk.b slips", "$BRK.B slips"),
        ("Costs $5 billion", "Costs $5 billion"),
        ("'Leading apostrophe", "Leading apostrophe"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_is_idempotent() -> None:
    raw = "  $msft &lt;3 earnings https://t.co/x  beat\u00a0"
    once = normalize_text(raw)
    assert normalize_text(once) == once
