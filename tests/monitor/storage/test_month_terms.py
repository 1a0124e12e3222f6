"""0008's month terms (pure): the month of an instant, the months a range names, and the operands
counted in a tsquery as PostgreSQL prints it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.storage.month_terms import month_start, month_term, operand_count, within_months

EAST = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("", 0),
        ("'a'", 1),
        ("'a' & !'b'", 2),
        ("'profit' <-> 'warn' | 'x'", 3),
        ("'it''s' <-> 'x'", 2),  # a quote inside is doubled
        (r"'a\\b' & ( 'x''' | 'y' )", 3),  # so is a backslash
        ("'warn':* & 'profit':A", 2),
    ],
)
def test_operands_are_counted_in_the_printed_form(query: str, count: int) -> None:
    assert operand_count(query) == count


def test_month_terms_are_utc_months() -> None:
    assert month_term(datetime(2026, 12, 1, 0, 30, tzinfo=EAST)) == "@2026-11"
    assert month_term(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "@2026-12"
    assert month_start(datetime(2026, 12, 1, 0, 30, tzinfo=EAST)) == datetime(
        2026, 11, 1, tzinfo=UTC
    )


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
        (
            datetime(2026, 1, 31, 12),
            datetime(2026, 3, 1, 0, 0, 1),
            ["@2026-01", "@2026-02", "@2026-03"],
        ),
    ],
)
def test_a_range_names_every_month_it_touches(
    since: datetime, until: datetime, months: list[str]
) -> None:
    query = within_months("'x' | 'y'", since.replace(tzinfo=UTC), until.replace(tzinfo=UTC))
    assert query == "( 'x' | 'y' ) & ( " + " | ".join(f"'{m}'" for m in months) + " )"


def test_an_empty_range_is_refused() -> None:
    at = datetime(2026, 11, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="empty range"):
        within_months("'x'", at, at)
