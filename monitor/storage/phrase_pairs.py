"""Which pairs of adjacent words a search requires, read from its tsquery as PostgreSQL prints it:
the keys of the pair index (0011), which answers a phrase without reading every headline that
holds its words somewhere.

A pair is required when every headline the query matches has those two words side by side
(`"profit warning"` requires profit-warn); OR requires one of its sides' pairs, and a negated
term or a lone word requires none. Pure text in, pure data out: no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# One token of tsquery output: a quoted lexeme with its optional `:*` (prefix) and weights, a
# phrase operator `<->` / `<N>`, or one of `& | ! ( )`.
_TOKEN = re.compile(
    r"\s*(?:'(?P<lexeme>(?:[^'\\]|''|\\.)*)'(?::(?P<flags>[*A-D]+))?"
    r"|<(?P<distance>-|\d+)>|(?P<op>[&|!()]))"
)
_ESCAPE = re.compile(r"''|\\(.)")


class TsqueryParseError(ValueError):
    """Text that is not a tsquery as PostgreSQL prints one."""


@dataclass(frozen=True, slots=True)
class Word:
    """A lexeme; `prefix` for `'downgr':*`, which matches any word starting so."""

    lexeme: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    operand: Query


@dataclass(frozen=True, slots=True)
class Both:
    left: Query
    right: Query


@dataclass(frozen=True, slots=True)
class Either:
    left: Query
    right: Query


@dataclass(frozen=True, slots=True)
class Follows:
    """`left <distance> right`: right stands `distance` positions after left ends."""

    left: Query
    right: Query
    distance: int


Query = Word | Not | Both | Either | Follows


@dataclass(frozen=True, slots=True)
class Pair:
    """Two lexemes side by side, `first` then `second`."""

    first: str
    second: str


@dataclass(frozen=True, slots=True)
class AllOf:
    needs: tuple[Need, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    needs: tuple[Need, ...]


Need = Pair | AllOf | AnyOf


def parse(text: str) -> Query | None:
    """The query `text` (a tsquery's text form) stands for; None for an empty tsquery."""
    tokens = _tokens(text)
    if not tokens:
        return None
    query, end = _either(tokens, 0)
    if end != len(tokens):
        raise TsqueryParseError(f"tsquery {text!r} has {tokens[end]!r} where an operator should be")
    return query


def required_pairs(query: Query | None) -> Need | None:
    """The pairs every match of `query` holds (None: it requires none)."""
    match query:
        case Word() | Not() | None:
            return None
        case Both(left, right):
            return _all_of(required_pairs(left), required_pairs(right))
        case Either(left, right):
            return _any_of(required_pairs(left), required_pairs(right))
        case Follows(left, right):
            chain = _chain(query)
            if chain is None:  # a phrase of phrases: each side holds its own pairs
                return _all_of(required_pairs(left), required_pairs(right))
            return _all_of(*_adjacent(chain))


# A token: a lexeme, a phrase operator's distance, or one of `& | ! ( )`.
_Token = Word | int | str


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    at, end = 0, len(text.rstrip())
    while at < end:
        found = _TOKEN.match(text, at)
        if found is None:
            raise TsqueryParseError(f"cannot read tsquery {text!r} at {text[at:]!r}")
        if found["lexeme"] is not None:
            lexeme = _ESCAPE.sub(lambda m: m[1] or "'", found["lexeme"])
            tokens.append(Word(lexeme, "*" in (found["flags"] or "")))
        elif found["distance"] is not None:
            tokens.append(1 if found["distance"] == "-" else int(found["distance"]))
        else:
            tokens.append(found["op"])
        at = found.end()
    return tokens


# Precedence, loosest first, as PostgreSQL prints it: `|`, `&`, `<N>`, then `!` and parentheses.
def _either(tokens: list[_Token], at: int) -> tuple[Query, int]:
    return _chained(tokens, at, "|", _both, Either)


def _both(tokens: list[_Token], at: int) -> tuple[Query, int]:
    return _chained(tokens, at, "&", _follows, Both)


def _chained(
    tokens: list[_Token],
    at: int,
    op: str,
    operand: Callable[[list[_Token], int], tuple[Query, int]],
    join: Callable[[Query, Query], Query],
) -> tuple[Query, int]:
    """Operands read by `operand`, separated by `op`, joined left to right."""
    query, at = operand(tokens, at)
    while at < len(tokens) and tokens[at] == op:
        right, at = operand(tokens, at + 1)
        query = join(query, right)
    return query, at


def _follows(tokens: list[_Token], at: int) -> tuple[Query, int]:
    query, at = _operand(tokens, at)
    while at < len(tokens) and isinstance(distance := tokens[at], int):
        right, at = _operand(tokens, at + 1)
        query = Follows(query, right, distance)
    return query, at


def _operand(tokens: list[_Token], at: int) -> tuple[Query, int]:
    item = tokens[at] if at < len(tokens) else None
    if isinstance(item, Word):
        return item, at + 1
    if item == "!":
        operand, at = _operand(tokens, at + 1)
        return Not(operand), at
    if item == "(":
        query, at = _either(tokens, at + 1)
        if at >= len(tokens) or tokens[at] != ")":
            raise TsqueryParseError("tsquery has an unclosed parenthesis")
        return query, at + 1
    raise TsqueryParseError(f"tsquery has {item or 'its end'!r} where an operand should be")


def _chain(query: Query) -> list[tuple[int, Word]] | None:
    """A phrase of words as (position from its first word, word), or None when it holds anything
    else. Only left-nested chains, as PostgreSQL builds a quoted phrase: where a phrase ends is
    then plainly its last word."""
    if isinstance(query, Word):
        return [(0, query)]
    if not isinstance(query, Follows) or not isinstance(query.right, Word):
        return None
    chain = _chain(query.left)
    if chain is None:
        return None
    return [*chain, (chain[-1][0] + query.distance, query.right)]


def _adjacent(chain: list[tuple[int, Word]]) -> list[Pair]:
    return [
        Pair(a.lexeme, b.lexeme)
        for i, a in chain
        for j, b in chain
        if j == i + 1 and not a.prefix and not b.prefix
    ]


def _all_of(*needs: Need | None) -> Need | None:
    kept = tuple(dict.fromkeys(n for n in needs if n is not None))
    if len(kept) <= 1:
        return kept[0] if kept else None
    return AllOf(kept)


def _any_of(left: Need | None, right: Need | None) -> Need | None:
    if left is None or right is None:  # one side matches with no pair at all
        return None
    return left if left == right else AnyOf((left, right))
