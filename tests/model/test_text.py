"""The one normalisation function: entities, links, emoji, hashtags, cashtags, wire codes."""

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
        ("$aapl and $Tsla up", "AAPL and TSLA up"),
        ("$brk.b slips", "BRK.B slips"),
        ("Costs $5 billion", "Costs $5 billion"),
        ("#Oil jumps 5% #OPEC", "Oil jumps 5% OPEC"),
        ("Issue #2 and AT&#38;T", "Issue 2 and AT&T"),
        ("Stocks \U0001f680\U0001f680 to the moon \U0001f44d\U0001f3fd", "Stocks to the moon"),
        ("Family \U0001f468\u200d\U0001f469\u200d\U0001f467 fund \u2764\ufe0f", "Family fund"),
        ("Rates at 5\u00b0 and \u20ac10", "Rates at 5 and \u20ac10"),
        ("Johnson & Johnson <JNJ.N> rose [nL4N2X01AB]", "Johnson & Johnson rose"),
        ("The S&P 500 <.SPX> fell", "The S&P 500 fell"),
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
