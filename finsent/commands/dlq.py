"""`finsent dlq list|show|replay`: look at the dead letters in news.dlq, send them to news.raw."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

import typer

from stream.dlq import (
    DeadLetter,
    DeadLetters,
    Selection,
    newest,
    parse_position,
    plan_replay,
    preview,
)
from stream.redrive import read_dead_letters, redrive
from stream.schema import RejectReason
from stream.settings import StreamSettings

dlq_app = typer.Typer(help="Dead letters in news.dlq: list, show, replay to news.raw.")

_AGE = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_REASON_HELP = "Only this rejection reason."
_SINCE_HELP = "Only those dead-lettered since: ISO 8601 (UTC when no zone) or an age, e.g. 90m, 2d."


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq", no_args_is_help=True)


@dlq_app.callback()
def _quiet_kafka() -> None:
    # These commands print for a person; aiokafka's INFO lines (assignments) would bury that.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("aiokafka").setLevel(logging.WARNING)


@dlq_app.command("list")
def list_(
    reason: RejectReason | None = typer.Option(None, help=_REASON_HELP),
    since: str | None = typer.Option(None, help=_SINCE_HELP),
    limit: int = typer.Option(20, min=1, help="How many, newest first."),
) -> None:
    """One line per dead letter: position, time, reason, size, re-drives, state, detail."""
    selection = _selection(reason, since)
    settings = StreamSettings()
    dead = asyncio.run(read_dead_letters(settings))
    shown = newest(dead, selection, limit)
    if not shown:
        held = "none matches" if dead.letters else "it holds none"
        typer.echo(f"no dead letters to list in {settings.topic_dlq}: {held}")
    for letter in shown:
        typer.echo(_line(letter, dead, settings.dlq_max_redrives))
    matching = sum(1 for d in dead.letters if selection(d))
    if matching > len(shown):
        typer.echo(f"{len(shown)} of {matching} shown; --limit shows more", err=True)


@dlq_app.command()
def show(
    position: str = typer.Argument(
        ..., help="OFFSET in news.dlq, or PARTITION:OFFSET when it has several partitions."
    ),
    chars: int = typer.Option(2000, min=1, help="Show at most this many characters of the value."),
) -> None:
    """One dead letter: why, where it came from, and its value (control characters escaped)."""
    try:
        partition, offset = parse_position(position)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    settings = StreamSettings()
    dead = asyncio.run(read_dead_letters(settings))
    letter = dead.find(partition, offset, topic=settings.topic_dlq)
    state = dead.state(letter, settings.dlq_max_redrives)
    truncated = (
        f" (only the first bytes of {letter.truncated_from} were kept)"
        if letter.truncated_from is not None
        else ""
    )
    typer.echo(f"dead letter {settings.topic_dlq} {letter.position}")
    typer.echo(f"  reason     {letter.reason}")
    typer.echo(f"  detail     {letter.detail}")
    typer.echo(f"  source     {letter.source}")
    typer.echo(f"  received   {_time(letter.dead_at)}")
    typer.echo(f"  size       {len(letter.value)} bytes{truncated}")
    typer.echo(f"  re-drives  {letter.redrives} of at most {settings.dlq_max_redrives}")
    typer.echo(f"  state      {state}")
    typer.echo(f"  key        {preview(letter.key, 200) if letter.key is not None else '-'}")
    typer.echo(f"  value      {preview(letter.value, chars)}")


@dlq_app.command()
def replay(
    reason: RejectReason | None = typer.Option(None, help=_REASON_HELP),
    since: str | None = typer.Option(None, help=_SINCE_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be sent; send nothing."),
    limit: int | None = typer.Option(None, min=1, help="Send at most this many, oldest first."),
) -> None:
    """Send dead letters back to news.raw once the cause is fixed, none twice or too often.

    A dead letter goes back at most FINSENT_DLQ_MAX_REDRIVES times; one a replay already sent
    back is not sent again."""
    selection = _selection(reason, since)
    settings = StreamSettings()
    most = settings.dlq_max_redrives
    dead = asyncio.run(read_dead_letters(settings))
    plan = plan_replay(dead, selection, max_redrives=most, limit=limit)
    verb = "would re-drive" if dry_run else "re-drive"
    for d in plan.send:
        typer.echo(f"{verb} {d.position} {d.reason} (re-drive {d.redrives + 1} of {most})")
    for d in plan.exhausted:
        typer.echo(
            f"skip {d.position} {d.reason}: re-driven {d.redrives} times, the maximum "
            f"(FINSENT_DLQ_MAX_REDRIVES={most})"
        )
    for d in plan.truncated:
        typer.echo(f"skip {d.position} {d.reason}: truncated, the original bytes were not kept")
    if not dry_run:
        asyncio.run(redrive(settings, plan.send))
    done = "would send" if dry_run else "sent"
    summary = f"{done} {len(plan.send)} dead letters to {settings.topic_raw}"
    skipped = len(plan.exhausted) + len(plan.truncated)
    if skipped:
        summary += f"; skipped {skipped}"
    if plan.redriven_before:
        summary += f"; {plan.redriven_before} sent back by an earlier replay"
    if plan.over_limit:
        summary += f"; {plan.over_limit} more beyond --limit"
    typer.echo(summary)


def _selection(reason: RejectReason | None, since: str | None) -> Selection:
    return Selection(reason.value if reason else None, _moment(since) if since else None)


def _moment(text: str) -> datetime:
    """`2026-11-02T08:00Z` (UTC when no zone), or an age back from now such as `90m` or `2d`."""
    age = _AGE.fullmatch(text.strip())
    if age:
        return datetime.now(UTC) - timedelta(seconds=int(age[1]) * _UNIT_S[age[2]])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise typer.BadParameter(
            f"expected ISO 8601 like 2026-11-02T08:00Z or an age like 90m, 2h, 7d; got {text!r}"
        ) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _line(letter: DeadLetter, dead: DeadLetters, max_redrives: int) -> str:
    return (
        f"{letter.position!s:>8}  {_time(letter.dead_at)}  {letter.reason:<17}  "
        f"{len(letter.value):>8} B  re-drives {letter.redrives}  "
        f"{dead.state(letter, max_redrives):<9}  {letter.detail[:80]}"
    )
