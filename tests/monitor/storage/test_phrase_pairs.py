"""Reading the word pairs a search requires from its printed tsquery (no database; the pairs are
checked against PostgreSQL's own matching in `test_phrase_pairs_index`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.storage.phrase_pairs import (
    AllOf,
    AnyOf,
    Both,
    Either,
    Follows,
    Not,
    Pair,
    Query,
    TsqueryParseError,
    Word,
    parse,
    required_pairs,
)
from tests.monitor.storage.tsquery_text import printed

W = Word


def _pairs(shown: str) -> object:
    return required_pairs(parse(shown))


def test_precedence_is_postgresql_s() -> None:
    # as PostgreSQL prints websearch_to_tsquery('"profit warning" OR -"year-end results" x''y')
    shown = "'profit' <-> 'warn' | !( 'year-end' <-> 'year' <-> 'end' ) & 'x' <-> 'y'"
    chain = Follows(Follows(W("year-end"), W("year"), 1), W("end"), 1)
    assert parse(shown) == Either(
        Follows(W("profit"), W("warn"), 1),
        Both(Not(chain), Follows(W("x"), W("y"), 1)),
    )


def test_quotes_backslashes_prefixes_and_weights() -> None:
    assert parse("'it''s' & 'c:\\\\dir' & 'downgr':* & 'bank':AB & 'guid':*A") == Both(
        Both(Both(Both(W("it's"), W("c:\\dir")), W("downgr", prefix=True)), W("bank")),
        W("guid", prefix=True),
    )


def test_a_phrase_requires_each_adjacent_pair_in_order() -> None:
    assert _pairs("'warn' <-> 'profit'") == Pair("warn", "profit")
    both = AllOf((Pair("rate", "cut"), Pair("cut", "bank")))
    assert _pairs("'rate' <-> 'cut' <-> 'bank'") == both


def test_a_stop_word_gap_or_a_prefix_breaks_a_pair() -> None:
    # "cuts the guidance": the stop word leaves a gap of two positions
    assert _pairs("'cut' <2> 'guidanc'") is None
    assert _pairs("'profit' <2> 'year' <-> 'end'") == Pair("year", "end")
    assert _pairs("'profit' <-> 'warn':*") is None


def test_or_needs_a_pair_on_both_sides_and_not_needs_none() -> None:
    assert _pairs("'profit' <-> 'warn' | 'chip'") is None
    assert _pairs("'profit' <-> 'warn' | 'rate' <-> 'cut'") == AnyOf(
        (Pair("profit", "warn"), Pair("rate", "cut"))
    )
    assert _pairs("!( 'profit' <-> 'warn' ) & 'chip'") is None
    assert _pairs("'profit' <-> 'warn' & 'profit' <-> 'warn'") == Pair("profit", "warn")


def test_a_phrase_of_phrases_keeps_each_side_s_pairs() -> None:
    assert _pairs("'a' <-> ( 'b' <-> 'c' )") == Pair("b", "c")
    assert _pairs("( 'a' | 'b' ) <-> 'c'") is None
    assert _pairs("!'a' <-> 'b'") is None


def test_words_and_empty_queries_require_nothing() -> None:
    assert _pairs("") is None
    assert _pairs("'guidanc' & 'bank'") is None


@pytest.mark.parametrize(
    "shown", ["'a' &", "& 'a'", "( 'a'", "'a' )", "'a' 'b'", "'a", "'a' <x> 'b'", "!"]
)
def test_text_that_is_no_tsquery_is_refused(shown: str) -> None:
    with pytest.raises(TsqueryParseError):
        parse(shown)


_words = st.builds(Word, st.text(min_size=1, max_size=6), st.booleans())
queries = st.recursive(
    _words,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(Both, inner, inner),
        st.builds(Either, inner, inner),
        st.builds(Follows, inner, inner, st.integers(0, 5)),
    ),
    max_leaves=8,
)


@given(queries)
def test_parsing_reads_back_any_query(query: Query) -> None:
    assert parse(printed(query)) == query
