"""A parsed tsquery printed back as tsquery text, every operation in parentheses: what the
parser's tests read back, here and against PostgreSQL."""

from __future__ import annotations

from monitor.storage.phrase_pairs import Both, Either, Follows, Not, Query, Word


def printed(query: Query) -> str:
    """`query` as tsquery text, every operation in parentheses."""
    match query:
        case Word(lexeme, prefix):
            quoted = "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
            return quoted + (":*" if prefix else "")
        case Not(operand):
            return f"!( {printed(operand)} )"
        case Both(left, right):
            return f"( {printed(left)} & {printed(right)} )"
        case Either(left, right):
            return f"( {printed(left)} | {printed(right)} )"
        case Follows(left, right, distance):
            return f"( {printed(left)} <{distance}> {printed(right)} )"
