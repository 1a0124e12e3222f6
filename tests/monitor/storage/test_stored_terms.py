"""Reading, rewriting and printing tsqueries for 0008's stored terms (pure), and the month terms'
ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.storage.stored_terms import (
    Binary,
    Lexeme,
    Node,
    Not,
    UnreadableQuery,
    month_term,
    operand_count,
    parse,
    printed,
    with_pair_terms,
    within_months,
)

_lexemes = st.builds(
    Lexeme,
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8),
    st.sampled_from(["", "*", "A", "*AB", "BCD"]),
)
_ops = st.sampled_from(["&", "|", "<1>", "<2>", "<5>"])
trees: st.SearchStrategy[Node] = st.recursive(
    _lexemes,
    lambda inner: st.one_of(st.builds(Not, inner), st.builds(Binary, _ops, inner, inner)),
    max_leaves=8,
)


@given(trees)
def test_a_printed_tree_reads_back_as_itself(tree: Node) -> None:
    assert parse(printed(tree)) == tree


@pytest.mark.parametrize(
    ("query", "rewritten"),
    [
        ("'profit' <-> 'warn'", "'profit warn'"),  # exact: a pair term is the phrase
        ("!'rate' <-> 'cut'", "( !( 'rate' ) <-> 'cut' )"),  # ! binds tighter: not a plain pair
        ("!( 'rate' <-> 'cut' )", "!( 'rate cut' )"),
        (
            "'bank' <-> 'cut' <-> 'guidanc'",
            "( 'bank cut' & ( 'cut guidanc' & ( ( 'bank' <-> 'cut' ) <-> 'guidanc' ) ) )",
        ),
        ("'cut' <2> 'guidanc'", "( 'cut' <2> 'guidanc' )"),  # a stop word between: no pair
        ("'a' <-> 'b' <2> 'c'", "( 'a b' & ( ( 'a' <-> 'b' ) <2> 'c' ) )"),
        ("'a' <-> ( 'b' <-> 'c' )", "( 'a' <-> ( 'b' <-> 'c' ) )"),  # sub-phrase: as it was
        ("'warn':* <-> 'profit'", "( 'warn':* <-> 'profit' )"),  # a prefix has no pair
        ("'a' <-> 'b' & 'c' | 'd'", "( ( 'a b' & 'c' ) | 'd' )"),
        ("'it''s' <-> 'x\\\\y'", "'it''s x\\\\y'"),
    ],
)
def test_phrases_of_plain_lexemes_name_their_pairs(query: str, rewritten: str) -> None:
    assert with_pair_terms(query) == rewritten


def test_a_pair_too_long_for_a_lexeme_stays_a_phrase() -> None:
    long = "x" * 1100  # two of them make 2,201 bytes
    query = f"'{long}' <-> '{long}' <-> 'y'"
    assert with_pair_terms(query) == f"( '{long} y' & ( ( '{long}' <-> '{long}' ) <-> 'y' ) )"
    assert with_pair_terms(f"'{long}' <-> '{long}'") == f"( '{long}' <-> '{long}' )"


@pytest.mark.parametrize("query", ["", "'unclosed", "'a' &", "( 'a'", "'a' 'b'", "& 'a'"])
def test_text_that_is_not_a_printed_query_is_kept_as_it_is(query: str) -> None:
    if query:
        with pytest.raises(UnreadableQuery):
            parse(query)
    assert with_pair_terms(query) == query


@pytest.mark.parametrize(
    ("query", "count"),
    [("", 0), ("'a'", 1), ("'profit warn'", 1), ("'a' & !'b'", 2), ("'it''s' <-> 'x'", 2)],
)
def test_operand_count(query: str, count: int) -> None:
    assert operand_count(query) == count


def test_month_terms_are_utc_months() -> None:
    east = timezone(timedelta(hours=2))
    assert month_term(datetime(2026, 12, 1, 0, 30, tzinfo=east)) == "@2026-11"
    assert month_term(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "@2026-12"


@pytest.mark.parametrize(
    ("since", "until", "months"),
    [
        (datetime(2026, 11, 8, 13), datetime(2026, 12, 1), ["@2026-11"]),  # until is exclusive
        (datetime(2026, 11, 30, 23), datetime(2026, 12, 1, 0, 0, 1), ["@2026-11", "@2026-12"]),
        (
            datetime(2026, 9, 8),
            datetime(2026, 12, 7),
            ["@2026-09", "@2026-10", "@2026-11", "@2026-12"],
        ),
        (datetime(2026, 12, 31, 23), datetime(2027, 1, 2), ["@2026-12", "@2027-01"]),
    ],
)
def test_a_range_names_every_month_it_touches(
    since: datetime, until: datetime, months: list[str]
) -> None:
    query = within_months("'x'", since.replace(tzinfo=UTC), until.replace(tzinfo=UTC))
    tree = parse(query)
    assert isinstance(tree, Binary) and tree.left == Lexeme("x")
    assert _operands(tree.right) == months


def test_an_empty_range_is_refused() -> None:
    at = datetime(2026, 11, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="empty range"):
        within_months("'x'", at, at)


def _operands(node: Node) -> list[str]:
    if isinstance(node, Lexeme):
        return [node.text]
    if isinstance(node, Not):
        return _operands(node.operand)
    return _operands(node.left) + _operands(node.right)
