"""How text typed into a headline search box becomes a PostgreSQL full-text match.

Web-search rules (`websearch_to_tsquery`, English): words match any form (`cuts` finds `cut`),
`"rate cut"` is a phrase, `OR` and `-word` work; a tagged ticker counts as a word (`AAPL` and
`$AAPL` find items tagged AAPL); `downgr*` matches words that start so. User text only ever
travels as a bound parameter and nothing typed raises: text without searchable words (`%`, `the`)
matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, literal
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY, TSVECTOR

from monitor.storage.models import Document, search_day, search_pairs, search_vector
from monitor.storage.phrase_pairs import AllOf, Need, Pair
from monitor.storage.resolution import DAY

SEARCH_CONFIG = "english"  # the configuration `documents_search_vector` (0006) indexes with
# `word*` outside quotes: a prefix term. Two characters at least, so a prefix stays selective.
_PREFIX = re.compile(r'(?<![\w"*-])(\w{2,})\*')
_QUOTED = re.compile(r'"[^"]*"?')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)  # PostgreSQL's resolution: the last instant before `until`


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """Search text split for PostgreSQL: `words` for `websearch_to_tsquery`, and `prefixes` made
    of word characters only, so `to_tsquery` never sees its own syntax."""

    words: str
    prefixes: tuple[str, ...]


def search_terms(text: str) -> SearchTerms:
    """`text` as typed, each `word*` outside double quotes taken out as a (required) prefix."""
    text = text.replace("\x00", " ")  # PostgreSQL text cannot hold NUL; it separates nothing
    prefixes: list[str] = []
    parts: list[str] = []
    last = 0
    for quoted in [*_QUOTED.finditer(text), None]:
        outside = text[last : quoted.start() if quoted else len(text)]
        prefixes += [m.group(1).lower() for m in _PREFIX.finditer(outside)]
        parts.append(_PREFIX.sub(" ", outside))
        if quoted:
            parts.append(quoted.group(0))
            last = quoted.end()
    return SearchTerms(words="".join(parts), prefixes=tuple(dict.fromkeys(prefixes)))


def tsquery(text: str) -> ColumnElement[Any]:
    """The `tsquery` that `text` as typed stands for (see the module docstring)."""
    terms = search_terms(text)
    config = literal(SEARCH_CONFIG, REGCONFIG)
    query: ColumnElement[Any] = func.websearch_to_tsquery(config, terms.words)
    for prefix in terms.prefixes:
        query = query.op("&&")(func.to_tsquery(config, f"{prefix}:*"))
    return query


def printed_tsquery(text: str) -> ColumnElement[str]:
    """The `tsquery` of `text` as PostgreSQL prints it (what `phrase_pairs.parse` reads): its own
    stemming, stop words and phrase distances."""
    return cast(tsquery(text), Text)


def day_number(instant: datetime) -> int:
    """The UTC day number `documents_search_day` (0010) gives `instant`."""
    return (instant - _EPOCH) // DAY


def matches(
    text: str,
    *,
    stored: bool,
    indexed: bool = True,
    day: int | None = None,
    pairs: Need | None = None,
) -> ColumnElement[bool]:
    """SQL true for the documents `text` finds: on the stored column once every row has it
    (`stored`, see `search_vectors`), else on exactly the indexed expression; both indexed.

    `day` (a `day_number`) also names the one UTC day the caller's range lies in,
    so the text index, keyed by day (0010), reads only that day's entries. It narrows nothing the
    caller's time condition does not. `pairs` (with `stored`), the word pairs `text` requires
    (`phrase_pairs`), lets the pair index (0011) find its phrases; it narrows nothing either.
    `indexed=False` matches on an expression no index serves, so each candidate row is tested
    and the text index is never read.
    """
    vector = Document.search_vector if stored else search_vector()
    query = tsquery(text)
    if not indexed:
        return func.coalesce(vector, cast("", TSVECTOR)).op("@@", is_comparison=True)(query)
    found: ColumnElement[bool] = vector.op("@@", is_comparison=True)(query)
    if pairs is not None:
        found = found & search_pairs().op("@@", is_comparison=True)(_pair_query(pairs))
    if day is not None:
        return found & (search_day() == day)
    return found


def _pair_query(need: Need) -> ColumnElement[Any]:
    """`need` as a tsquery over the pair index's keys (0011's `documents_search_pair`)."""
    if isinstance(need, Pair):
        # The key is hex digits, which a tsquery reads as one plain word.
        return cast(func.documents_search_pair(need.first, need.second), TSQUERY)
    op = "&&" if isinstance(need, AllOf) else "||"
    query = _pair_query(need.needs[0])
    for more in need.needs[1:]:
        query = query.op(op)(_pair_query(more))
    return query
