"""Label names and ids for both heads, and the explicit map from the data's sentiment ids."""

from __future__ import annotations

from typing import Final

TOPICS: Final[tuple[str, ...]] = (
    "Analyst Update",
    "Fed | Central Banks",
    "Company | Product News",
    "Treasuries | Corporate Debt",
    "Dividend",
    "Earnings",
    "Energy | Oil",
    "Financials",
    "Currencies",
    "General News | Opinion",
    "Gold | Metals | Materials",
    "IPO",
    "Legal | Regulation",
    "M&A | Investments",
    "Macro",
    "Markets",
    "Politics",
    "Personnel Change",
    "Stock Commentary",
    "Stock Movement",
)

# Model output order; `score` = p_positive - p_negative relies on these positions.
SENTIMENTS: Final[tuple[str, ...]] = ("negative", "neutral", "positive")
NEGATIVE: Final = 0
NEUTRAL: Final = 1
POSITIVE: Final = 2

# The Twitter Financial News sentiment files use 0 Bearish, 1 Bullish, 2 Neutral.
DATA_SENTIMENT_TO_ID: Final[dict[int, int]] = {0: NEGATIVE, 1: POSITIVE, 2: NEUTRAL}


def topic_id(name: str) -> int:
    """Return the id of a topic name; raises `ValueError` for an unknown name."""
    try:
        return TOPICS.index(name)
    except ValueError:
        raise ValueError(f"unknown topic {name!r}; expected one of {', '.join(TOPICS)}") from None


def sentiment_from_data(label: int) -> int:
    """Map a data-set sentiment id (0 Bearish, 1 Bullish, 2 Neutral) to a model sentiment id."""
    try:
        return DATA_SENTIMENT_TO_ID[label]
    except KeyError:
        raise ValueError(f"sentiment label {label} is not one of 0, 1, 2") from None
