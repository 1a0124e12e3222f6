"""`finsent alerter` and `finsent alerts`: run the evaluator, inspect, test and backtest alerts."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import httpx
import typer

from finsent.alerter import AlerterSettings, run_alerter
from finsent.observability import MetricsSettings
from monitor.alerting.backtest import BacktestEpisode, backtest
from monitor.alerting.rules import load_rules
from monitor.alerting.settings import AlertSettings, endpoint_problem
from monitor.delivery.http import WebhookSender
from monitor.delivery.outbox import Delivery, Outcome, OutcomeKind
from monitor.delivery.payload import alertmanager_body, iso, new_webhook_id, reason, sample_alert
from monitor.storage import alert_queries
from monitor.storage.db import check_connection, make_engine, make_sessionmaker
from monitor.storage.records import AlertRecord, mask_endpoint
from monitor.storage.settings import MonitorSettings
from stream.settings import StreamSettings

alerts_app = typer.Typer(help="Alerts: list, show, test a webhook, backtest rules.")


def register(app: typer.Typer) -> None:
    app.command()(alerter)
    app.add_typer(alerts_app, name="alerts", no_args_is_help=True)


def alerter(
    kafka: bool = typer.Option(True, help="Also publish alert events to FINSENT_TOPIC_ALERTS."),
) -> None:
    """Evaluate the alert rules and deliver webhooks until Ctrl-C (one leader among replicas)."""
    settings = AlerterSettings(
        monitor=MonitorSettings(),
        alerts=AlertSettings(),
        stream=StreamSettings() if kafka else None,
        metrics=MetricsSettings(),
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_alerter(settings, stop)
    typer.echo("alerter stopped", err=True)


@alerts_app.command("list")
def list_(
    status: str | None = typer.Option(None, help="firing or resolved."),
    limit: int = typer.Option(20, min=1, help="How many, newest first."),
) -> None:
    """List alert episodes, newest first."""
    engine = make_engine(MonitorSettings())
    try:
        check_connection(engine)
        with make_sessionmaker(engine)() as session:
            found = alert_queries.alerts(session=session, status=status, limit=limit)
    finally:
        engine.dispose()
    if not found:
        typer.echo("no alerts")
    for alert in found:
        typer.echo(_one_line(alert))


@alerts_app.command()
def show(
    alert_id: int = typer.Argument(..., help="The alert's id (see `finsent alerts list`)."),
) -> None:
    """One alert: why it fired, the headlines that drove it, and its deliveries."""
    engine = make_engine(MonitorSettings())
    try:
        check_connection(engine)
        with make_sessionmaker(engine)() as session:
            alert = alert_queries.require_alert(session=session, alert_id=alert_id)
            deliveries = alert_queries.deliveries(session=session, alert_id=alert_id)
    finally:
        engine.dispose()
    typer.echo(_one_line(alert))
    typer.echo(f"  window     {_time(alert.window_start)} .. {_time(alert.window_end)}")
    typer.echo(f"  why        {reason(alert)}")
    typer.echo("  headlines")
    for h in alert.headlines:
        typer.echo(f"    [{h.p_negative:.2f}] {h.headline} ({h.source}, {h.id})")
    typer.echo("  deliveries")
    for d in deliveries:
        error = f" last: {d.shown_error}" if d.last_error and d.state != "delivered" else ""
        typer.echo(
            f"    {d.event:<8} {d.shown_endpoint:<40} {d.state:<9} "
            f"attempts {d.attempts} id {d.webhook_id}{error}"
        )


@alerts_app.command()
def test(
    endpoint: str = typer.Argument(..., help="The URL to POST a signed test event to."),
) -> None:
    """Send a signed sample alert to ENDPOINT and report the answer."""
    problem = endpoint_problem(endpoint)
    if problem:  # said without the URL: its path or query may be the credential
        raise typer.BadParameter(problem, param_hint="ENDPOINT")
    settings = AlertSettings()
    secrets = settings.signing_secrets()
    now = datetime.now(UTC)
    body = alertmanager_body(sample_alert(now), external_url=settings.alerts_external_url)
    delivery = Delivery(0, 0, "firing", endpoint, new_webhook_id(), body, 0, now)
    outcome = asyncio.run(_send(delivery, secrets, settings.webhook_timeout_s))
    where = mask_endpoint(endpoint)
    if outcome.status is None:
        typer.echo(f"{where}: {outcome.error}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{where}: HTTP {outcome.status} ({outcome.kind}), webhook-id {delivery.webhook_id}")
    if outcome.kind is not OutcomeKind.delivered:
        raise typer.Exit(1)


async def _send(delivery: Delivery, secrets: tuple[str, ...], timeout_s: float) -> Outcome:
    """Through the alerter's own sender, so the test is signed and judged as deliveries are."""
    async with httpx.AsyncClient(follow_redirects=False) as client:
        return await WebhookSender(client, secrets, timeout_s=timeout_s)(delivery)


class Format(StrEnum):
    text = "text"
    json = "json"


@alerts_app.command("backtest")
def backtest_(
    since: str = typer.Option(..., help="Start, ISO 8601 (UTC when no zone is given)."),
    until: str | None = typer.Option(None, help="End, ISO 8601; default now."),
    rules: Path | None = typer.Option(None, help="Rules file; default FINSENT_RULES or shipped."),
    output: Format = typer.Option(
        Format.text, "--format", help="text: one line per episode; json: one object per line."
    ),
) -> None:
    """Replay the rules over stored history and list what would have fired; sends nothing."""
    chosen = load_rules(rules or AlertSettings().rules)
    start, end = _moment(since), _moment(until) if until else datetime.now(UTC)
    engine = make_engine(MonitorSettings())
    try:
        check_connection(engine)
        with make_sessionmaker(engine)() as session:
            episodes = backtest(session=session, rules=chosen, since=start, until=end)
    finally:
        engine.dispose()
    for e in episodes:
        typer.echo(json.dumps(_episode_json(e)) if output is Format.json else _episode_line(e))
    typer.echo(f"{len(episodes)} episode(s) would have fired", err=True)


def _episode_line(e: BacktestEpisode) -> str:
    resolved = _time(e.resolved_at) if e.resolved_at else "still firing"
    return (
        f"{_time(e.started_at)}  {e.rule}  {e.dimension} {e.key or '-'}  {e.explanation}  "
        f"until {resolved}"
    )


def _episode_json(e: BacktestEpisode) -> dict[str, object]:
    fired = e.fired
    return {
        "rule": e.rule,
        "dimension": e.dimension,
        "key": e.key,
        "started_at": iso(e.started_at),
        "resolved_at": iso(e.resolved_at) if e.resolved_at else None,
        "window_start": iso(fired.window_start),
        "window_end": iso(fired.window_end),
        "volume": fired.volume,
        "observed": fired.observed,
        "expected": round(fired.expected, 6),
        "rate": round(fired.rate, 6),
        "z": round(fired.deviation, 3),
        "evidence": e.explanation,
    }


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise typer.BadParameter(f"expected ISO 8601 like 2026-11-02T08:00Z, got {text!r}") from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _one_line(alert: AlertRecord) -> str:
    resolved = f" resolved {_time(alert.resolved_at)}" if alert.resolved_at else ""
    return (
        f"#{alert.id} {alert.status:<8} {alert.rule}  {alert.dimension} {alert.key or '-'}  "
        f"started {_time(alert.started_at)}{resolved}  z {alert.deviation:.1f}"
    )
