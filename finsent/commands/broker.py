"""`finsent broker`: the embedded Kafka-protocol broker on loopback, for development."""

from __future__ import annotations

import signal
import threading

import typer

from stream.broker import EmbeddedBroker
from stream.exceptions import BrokerUnavailable


def register(app: typer.Typer) -> None:
    app.command()(broker)


def broker(
    port: int = typer.Option(9092, help="Loopback port to listen on (0: any free port)."),
) -> None:
    """Run the embedded Tansu broker on 127.0.0.1 until Ctrl-C (memory only: topics vanish)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with EmbeddedBroker(port=port) as running:
        typer.echo(f"broker ready: FINSENT_KAFKA_BOOTSTRAP={running.bootstrap}")
        while not stop.is_set() and running.poll() is None:
            stop.wait(0.5)
        if not stop.is_set():
            raise BrokerUnavailable(f"the embedded broker exited by itself ({running.poll()})")
    typer.echo("broker stopped", err=True)
