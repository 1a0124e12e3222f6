"""The month term a stored search vector holds besides its words (migration 0008): the UTC month
of publication, `'@2026-11'`, and a query restricted to the months a range touches.

No typed text can name one: the parser never keeps a leading `@` in a word, and a typed prefix
starts with a word character. Months, not days: the index walks a query's smallest terms first,
and a day of a busy feed holds fewer items than a common word, so thirty day terms would be walked
instead of the word. Even a month term's list is decoded whole, so a caller names months only
where they leave out much of the history. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

ANY_MONTH = "'@':*"  # matches every vector that holds its month term: one written since 0008
# An operand as PostgreSQL prints a tsquery: quoted, a quote (and a backslash) inside doubled.
_OPERAND = re.compile(r"'(?:[^']|'')*'")


def month_term(at: datetime) -> str:
    """The month term of a document published at `at` (an aware datetime)."""
    return "@" + at.astimezone(UTC).strftime("%Y-%m")


def month_start(at: datetime) -> datetime:
    """The first instant of `at`'s UTC month."""
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def within_months(query: str, since: datetime, until: datetime) -> str:
    """`query` (a tsquery as PostgreSQL prints it) restricted to documents published in a month
    that [since, until) touches; the caller keeps its exact time condition, which the partly
    covered months need."""
    if until <= since:
        raise ValueError(f"empty range: {since} .. {until}")
    month, last = month_start(since), month_start(until - timedelta(microseconds=1))
    months = [f"'{month_term(month)}'"]
    while month < last:
        month = month_start(month + timedelta(days=32))
        months.append(f"'{month_term(month)}'")
    return f"( {query} ) & ( {' | '.join(months)} )"


def operand_count(query: str) -> int:
    """How many operands (lexemes) `query`, a tsquery as PostgreSQL prints it, has."""
    return len(_OPERAND.findall(query))
