"""The terms a stored search vector holds besides its words (migration 0008) and how a query
names them: each pair of adjacent lexemes (`'profit warn'`) and the UTC month of publication
(`'@2026-11'`). Neither can come from typed text: the parser never keeps a space or a
leading `@` in a word, and a typed prefix starts with a word character.

A query is rewritten on its text as PostgreSQL prints it (`tsquery::text`): a two-lexeme phrase
becomes its pair term, which the index answers exactly; a longer phrase also requires its pairs,
so only headlines holding all of them are checked for the order. Months, not days: the index
walks the smallest terms of a query first, and a day of a busy feed holds fewer items than a
common word, so thirty day terms would be walked instead of the word; a month term is larger than
nearly any word. Even so the index decodes a month term's whole list, so a caller names months
only where they leave out much of the history. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_LEXEME_BYTES = 2047  # PostgreSQL's limit; 0008 stores no pair longer than that
ANY_MONTH = "'@':*"  # matches every vector that holds its month term: one written since 0008


@dataclass(frozen=True, slots=True)
class Lexeme:
    """An operand: the lexeme, and its `:*` / weight flags as printed after it."""

    text: str
    flags: str = ""


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """`&`, `|` or a phrase operator, printed `<N>` (`<->` is `<1>`)."""

    op: str
    left: Node
    right: Node


Node = Lexeme | Not | Binary


class UnreadableQuery(ValueError):
    """The text is not a tsquery as PostgreSQL prints one; the caller keeps the query as it is."""


def month_term(at: datetime) -> str:
    """The month term of a document published at `at` (an aware datetime)."""
    return "@" + at.astimezone(UTC).strftime("%Y-%m")


def month_start(at: datetime) -> datetime:
    """The first instant of `at`'s UTC month."""
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def within_months(query: str, since: datetime, until: datetime) -> str:
    """`query` restricted to documents published in a month that [since, until) touches; the
    caller keeps its exact time condition, which the partly covered months need."""
    if until <= since:
        raise ValueError(f"empty range: {since} .. {until}")
    first, last = month_start(since), month_start(until - timedelta(microseconds=1))
    months: Node = Lexeme(month_term(first))
    while first < last:
        first = month_start(first + timedelta(days=32))
        months = Binary("|", months, Lexeme(month_term(first)))
    return f"( {query} ) & ( {printed(months)} )"


def with_pair_terms(query: str) -> str:
    """`query` with each phrase of plain lexemes answered by (or narrowed by) its pair terms;
    `query` itself if it is empty or not in the printed form (it answers the same, more slowly)."""
    try:
        return printed(_rewrite(parse(query))) if query else query
    except UnreadableQuery:
        return query


def operand_count(query: str) -> int:
    """How many operands (lexemes) `query` has."""
    return len(_OPERAND.findall(query))


# --- reading PostgreSQL's printed form -----------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:'((?:[^'\\]|''|\\.)*)'(?::([*A-Da-d]+))?|(<->|<\d+>|[!&|()]))")
_OPERAND = re.compile(r"'(?:[^'\\]|''|\\.)*'")
_PRIORITY = {"|": 1, "&": 2, "<": 3}  # phrase operators bind tightest of the binary ones


def parse(query: str) -> Node:
    """The tree of a printed tsquery; left-associative, as PostgreSQL reads it."""
    tokens = _tokens(query)
    node, rest = _binary(tokens, 0, 1)
    if rest != len(tokens):
        raise UnreadableQuery(f"unexpected {tokens[rest]!r} in {query!r}")
    return node


def _tokens(query: str) -> list[Lexeme | str]:
    tokens: list[Lexeme | str] = []
    at = 0
    while query[at:].strip():
        match = _TOKEN.match(query, at)
        if match is None:
            raise UnreadableQuery(f"cannot read {query[at:]!r}")
        lexeme, flags, op = match.groups()
        if op is None:
            tokens.append(Lexeme(re.sub(r"''|\\(.)", _unescape, lexeme), flags or ""))
        else:
            tokens.append("<1>" if op == "<->" else op)
        at = match.end()
    return tokens


def _unescape(match: re.Match[str]) -> str:
    return match.group(1) if match.group(1) is not None else "'"


def _binary(tokens: list[Lexeme | str], at: int, level: int) -> tuple[Node, int]:
    if level > 3:
        return _unary(tokens, at)
    node, at = _binary(tokens, at, level + 1)
    while at < len(tokens) and isinstance(tokens[at], str):
        op = str(tokens[at])
        if _PRIORITY.get(op[0]) != level:
            break
        right, at = _binary(tokens, at + 1, level + 1)
        node = Binary(op, node, right)
    return node, at


def _unary(tokens: list[Lexeme | str], at: int) -> tuple[Node, int]:
    if at >= len(tokens):
        raise UnreadableQuery("the query ends where an operand should be")
    item = tokens[at]
    if isinstance(item, Lexeme):
        return item, at + 1
    if item == "!":
        operand, at = _unary(tokens, at + 1)
        return Not(operand), at
    if item == "(":
        node, at = _binary(tokens, at + 1, 1)
        if at >= len(tokens) or tokens[at] != ")":
            raise UnreadableQuery("a parenthesis is not closed")
        return node, at + 1
    raise UnreadableQuery(f"unexpected {item!r}")


def printed(node: Node) -> str:
    """`node` as tsquery input, parenthesised throughout so no precedence is assumed."""
    if isinstance(node, Lexeme):
        quoted = node.text.replace("\\", "\\\\").replace("'", "''")
        return f"'{quoted}'" + (f":{node.flags}" if node.flags else "")
    if isinstance(node, Not):
        return f"!( {printed(node.operand)} )"
    op = "<->" if node.op == "<1>" else node.op
    return f"( {printed(node.left)} {op} {printed(node.right)} )"


# --- the rewrite ---------------------------------------------------------------------------------


def _rewrite(node: Node) -> Node:
    if isinstance(node, Lexeme):
        return node
    if isinstance(node, Not):
        return Not(_rewrite(node.operand))
    if node.op in ("&", "|"):
        return Binary(node.op, _rewrite(node.left), _rewrite(node.right))
    chain = _phrase_chain(node)
    if chain is None:  # a phrase of sub-phrases or flagged lexemes: left exactly as it was
        return node
    first, steps = chain
    befores = [first, *(lexeme for _, lexeme in steps)]
    pairs = [
        Lexeme(f"{before.text} {after.text}")
        for before, (distance, after) in zip(befores, steps, strict=False)
        if distance == 1
    ]
    pairs = [pair for pair in pairs if len(pair.text.encode()) <= MAX_LEXEME_BYTES]
    if len(steps) == 1 and len(pairs) == 1:
        return pairs[0]  # 'a' <-> 'b' holds exactly where the pair term does
    narrowed: Node = node
    for pair in reversed(pairs):
        narrowed = Binary("&", pair, narrowed)
    return narrowed


def _phrase_chain(node: Node) -> tuple[Lexeme, list[tuple[int, Lexeme]]] | None:
    """`a <N> b <M> c` (left-associative) as its first lexeme and (distance, lexeme) steps; None
    unless every operand is a lexeme without flags."""
    steps: list[tuple[int, Lexeme]] = []
    while isinstance(node, Binary) and node.op.startswith("<"):
        right = node.right
        if not (isinstance(right, Lexeme) and not right.flags):
            return None
        steps.append((int(node.op[1:-1]), right))
        node = node.left
    if not (isinstance(node, Lexeme) and not node.flags):
        return None
    return node, steps[::-1]
