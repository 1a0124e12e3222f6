"""`finsent worker` and `finsent produce`: the stream side of the service."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

import typer
from prometheus_client import REGISTRY
from rich.progress import Progress, SpinnerColumn, TextColumn

from finsent.health import Probe, kafka_probe, postgres_probe
from finsent.observability import MetricsSettings, exposed
from model.scorer import Scorer
from model.settings import ModelSettings
from monitor.storage.db import check_connection, describe, make_engine
from monitor.storage.settings import MonitorSettings
from stream.producer import ProduceReport, publish
from stream.reader import BadLine, InputFormat, ReadItem, items_in, open_input, validated
from stream.settings import WORKER_TUNING, StreamSettings
from stream.synthetic import Burst, FeedPlan, synthetic_feed
from stream.worker import Worker

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command(epilog=_worker_settings())(worker)
    app.command()(produce)


def worker() -> None:
    """Consume news.raw, score each item, store it in PostgreSQL, publish news.scored.

    Batches overlap in a pipeline (validate, score, store, publish) and are committed in order.
    Prometheus metrics on FINSENT_METRICS_PORT include finsent_pipeline_depth,
    finsent_batch_size, finsent_scoring_seconds, finsent_stage_seconds{stage} and
    finsent_commit_lag_seconds.
    """
    stream_settings = StreamSettings()
    metrics = MetricsSettings()
    engine = make_engine(MonitorSettings())
    check_connection(engine)
    scorer = Scorer.from_settings(ModelSettings())
    log.info("model %s, database %s", scorer.model_version, describe(engine))
    probes = {"postgres": postgres_probe(engine), "kafka": kafka_probe(stream_settings)}
    try:
        running = Worker(stream_settings, engine, scorer)
        asyncio.run(_run_until_signalled(running, metrics, probes))
    finally:
        engine.dispose()
    log.info("worker stopped")


def _worker_settings() -> str:
    """The batch and pipeline settings, from their one definition in `StreamSettings`."""
    lines = ["Batch and pipeline settings (environment, default):"]
    for name in WORKER_TUNING:
        field = StreamSettings.model_fields[name]
        lines.append(f"FINSENT_{name.upper()} ({field.default}): {field.description}")
    return "\n\n".join(lines)


async def _run_until_signalled(
    running: Worker, metrics: MetricsSettings, probes: dict[str, Probe]
) -> None:
    """Run the worker, with its /metrics, /healthz and /readyz, until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with exposed(
        metrics.metrics_address,
        metrics.metrics_port,
        setting="FINSENT_METRICS_PORT",
        registry=REGISTRY,
        probes=probes,
    ):
        await running.run(stop)


def produce(
    path: str = typer.Argument("-", help="JSONL or CSV file of news items; - reads stdin."),
    fmt: InputFormat = typer.Option(
        InputFormat.auto, "--format", help="jsonl, csv, lines, or auto (by name and first line)."
    ),
    rate: float = typer.Option(0.0, help="Items per second; 0 sends as fast as possible."),
    synthetic: bool = typer.Option(False, help="Generate a feed instead of reading PATH."),
    count: int = typer.Option(1000, help="Synthetic items to send; 0 runs until stopped."),
    start: datetime | None = typer.Option(None, help="Event time of the first synthetic item."),
    speed: float = typer.Option(1.0, help="Event seconds per wall second (synthetic, backfill)."),
    burst_topic: str | None = typer.Option(None, help="Topic of a scripted negative burst."),
    burst_ticker: str | None = typer.Option(None, help="Company ticker of the burst."),
    burst_at: float = typer.Option(60.0, help="Burst start, event seconds after --start."),
    burst_length: float = typer.Option(120.0, help="Burst length in event seconds."),
    seed: int = typer.Option(7, help="Synthetic feed seed: the same seed, the same items."),
    run_id: str = typer.Option(
        "", help="Synthetic: put in every id, so a rerun with the same seed adds new items."
    ),
) -> None:
    """Publish news items to news.raw, keyed by id; bad lines are reported and skipped."""
    settings = StreamSettings()
    if synthetic:
        if rate <= 0:
            raise typer.BadParameter("--synthetic needs --rate > 0 to lay out event times")
        burst = Burst(burst_topic, burst_ticker, burst_at, burst_length) if burst_topic else None
        first = (start or datetime.now(UTC)).astimezone(UTC)
        plan = FeedPlan(
            first, spacing_s=speed / rate, count=count, burst=burst, seed=seed, run_id=run_id
        )
        now = datetime.now(UTC)
        generated = enumerate(synthetic_feed(plan), start=1)
        report = _publish_with_progress(
            settings, (validated(n, item, now=now) for n, item in generated), rate
        )
    else:
        with open_input(path) as source:
            items = items_in(source, name=path, fmt=fmt, now=datetime.now(UTC))
            report = _publish_with_progress(settings, items, rate)
    typer.echo(f"sent {report.sent} items to {settings.topic_raw}", err=True)
    if report.skipped:
        typer.echo(f"skipped {len(report.skipped)} bad lines", err=True)
        raise typer.Exit(1)


def _publish_with_progress(
    settings: StreamSettings, items: Iterable[ReadItem | BadLine], rate: float
) -> ProduceReport:
    with Progress(
        SpinnerColumn(), TextColumn("{task.completed} sent"), disable=not sys.stderr.isatty()
    ) as progress:
        task = progress.add_task("produce")
        return asyncio.run(
            publish(
                settings,
                (i.fields if isinstance(i, ReadItem) else i for i in items),
                rate=rate,
                on_sent=lambda n: progress.update(task, completed=n),
            )
        )
