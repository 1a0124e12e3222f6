"""TLS and SASL settings against a real Kafka-protocol broker, through `client_options`.

What the embedded Tansu 0.6.0 allows: TLS only through a TLS front (tests/stream/tls_front.py),
which is how these tests reach it, mutual TLS included. SASL with `--authentication`, SCRAM-SHA-256
and SCRAM-SHA-512 only (PLAIN is not offered); but its users can only be created through a broker
that lets unauthenticated clients in, and they live in its memory, so no login can succeed: the
tests show the SCRAM exchange is run, over plain text and over TLS, and its refusal is one line.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from subprocess import Popen
from typing import Any

import pytest

from monitor.storage.settings import MonitorSettings
from stream.broker import LOOPBACK, free_port, tansu_binary, wait_for_port
from stream.exceptions import BrokerUnavailable
from stream.kafka import client_options, ensure_topics, open_consumer, open_producer
from stream.settings import StreamSettings
from tests.stream.helpers import headline_items, read_topic, send_values, wait_for_count
from tests.stream.tls_files import TlsFiles, make_tls_files
from tests.stream.tls_front import TlsFront, server_context

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-Pa55word-1d9e"  # noqa: S105 - a test credential that must never be shown


@contextmanager
def tansu(*extra: str, advertised_port: int | None = None) -> Iterator[int]:
    """A Tansu broker on a free loopback port, telling clients to come back on
    `advertised_port` (a TLS front's) when given; yields the port it listens on."""
    port = free_port()
    listener = f"tcp://{LOOPBACK}:{port}"
    advertised = f"tcp://{LOOPBACK}:{advertised_port or port}"
    command = [str(tansu_binary()), "broker", "--listener-url", listener,
               "--advertised-listener-url", advertised,
               "--storage-engine", "memory://tansu/", *extra]  # fmt: skip
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
        try:
            wait_for_port(LOOPBACK, port, timeout_s=20)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def tls_fronted_tansu(tls: TlsFiles, *extra: str) -> Iterator[TlsFront]:
    """Tansu reachable only through a TLS front that requires a client certificate."""
    front_port = free_port()
    with tansu(*extra, advertised_port=front_port) as broker_port:
        context = server_context(tls.server_cert, tls.server_key, client_ca=tls.ca)
        with TlsFront(context, broker_port, front_port) as front:
            yield front


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_broker(tls: TlsFiles) -> Iterator[TlsFront]:
    with tls_fronted_tansu(tls) as front:
        yield front


@pytest.fixture(scope="module")
def sasl_broker() -> Iterator[int]:
    with tansu("--authentication") as port:
        yield port


@pytest.fixture(scope="module")
def sasl_tls_broker(tls: TlsFiles) -> Iterator[TlsFront]:
    with tls_fronted_tansu(tls, "--authentication") as front:
        yield front


def settings_for(port: int, **security: Any) -> StreamSettings:
    suffix = uuid.uuid4().hex[:8]
    return StreamSettings(
        kafka_bootstrap=f"{LOOPBACK}:{port}",
        topic_raw=f"news.raw.{suffix}",
        topic_scored=f"news.scored.{suffix}",
        topic_dlq=f"news.dlq.{suffix}",
        topic_alerts=f"sentiment.alerts.{suffix}",
        topic_partitions=2,
        consumer_group=f"finsent-test-{suffix}",
        **security,
    )


def mutual_tls(tls: TlsFiles) -> dict[str, Any]:
    return {
        "kafka_security_protocol": "SSL",
        "kafka_ssl_ca_file": tls.ca,
        "kafka_ssl_cert_file": tls.client_cert,
        "kafka_ssl_key_file": tls.client_key,
    }


def scram(mechanism: str) -> dict[str, str]:
    return {
        "kafka_sasl_mechanism": mechanism,
        "kafka_sasl_username": "alice",
        "kafka_sasl_password": PASSWORD,
    }


async def round_trip(settings: StreamSettings) -> tuple[bytes | None, bytes | None]:
    """Create the topics, produce one record, read it back in a consumer group."""
    await ensure_topics(settings)
    async with open_producer(settings) as producer:
        await producer.send_and_wait(settings.topic_raw, b'{"headline": "hi"}', key=b"k1")
    async with open_consumer(
        settings,
        settings.topic_raw,
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    ) as consumer:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    return record.key, record.value


# --- plain text, the default ------------------------------------------------------------------


async def test_plaintext_round_trip_through_client_options(stream_settings: StreamSettings) -> None:
    assert client_options(stream_settings) == {
        "bootstrap_servers": [stream_settings.kafka_bootstrap],
        "security_protocol": "PLAINTEXT",
    }
    assert await round_trip(stream_settings) == (b"k1", b'{"headline": "hi"}')


# --- TLS --------------------------------------------------------------------------------------


async def test_mutual_tls_round_trip(tls_broker: TlsFront, tls: TlsFiles) -> None:
    settings = settings_for(tls_broker.port, **mutual_tls(tls))
    seen_before = len(tls_broker.clients)
    assert await round_trip(settings) == (b"k1", b'{"headline": "hi"}')
    # Bootstrap, the partition leader and the group coordinator: each connection presented it.
    assert set(tls_broker.clients[seen_before:]) == {"finsent-test-client"}


async def test_tls_without_the_client_certificate_is_refused(
    tls_broker: TlsFront, tls: TlsFiles
) -> None:
    settings = settings_for(
        tls_broker.port, kafka_security_protocol="SSL", kafka_ssl_ca_file=tls.ca
    )
    with pytest.raises(BrokerUnavailable, match="over SSL; if it is up, check"):
        await ensure_topics(settings)


async def test_broker_not_signed_by_a_trusted_ca_is_refused(tls_broker: TlsFront) -> None:
    settings = settings_for(tls_broker.port, kafka_security_protocol="SSL")  # system CAs only
    with pytest.raises(BrokerUnavailable, match="over SSL"):
        await ensure_topics(settings)


async def test_plaintext_client_gets_nothing_from_a_tls_listener(tls_broker: TlsFront) -> None:
    with pytest.raises(BrokerUnavailable, match="^FINSENT_KAFKA_BOOTSTRAP: cannot reach"):
        await ensure_topics(settings_for(tls_broker.port))


# --- SASL -------------------------------------------------------------------------------------


async def test_plaintext_client_is_refused_by_an_authenticating_broker(sasl_broker: int) -> None:
    with pytest.raises(BrokerUnavailable, match="FINSENT_KAFKA_BOOTSTRAP"):
        await ensure_topics(settings_for(sasl_broker))


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_scram_refusal_is_one_line_naming_the_credentials(
    sasl_broker: int, mechanism: str
) -> None:
    """The broker runs the exchange (it knows no users) and refuses; aiokafka cannot read that
    refusal (KeyError 'v'), so without stream/kafka.py's translation this is a traceback."""
    settings = settings_for(
        sasl_broker, kafka_security_protocol="SASL_PLAINTEXT", **scram(mechanism)
    )
    with pytest.raises(BrokerUnavailable) as caught:
        await ensure_topics(settings)
    assert str(caught.value) == (
        "FINSENT_KAFKA_SASL_USERNAME / FINSENT_KAFKA_SASL_PASSWORD: the broker at "
        f"{settings.kafka_bootstrap} refused {mechanism} as 'alice'"
    )
    assert isinstance(caught.value.__cause__, KeyError)
    assert PASSWORD not in str(caught.value)


async def test_scram_over_tls_reaches_the_exchange(
    sasl_tls_broker: TlsFront, tls: TlsFiles
) -> None:
    """SASL_SSL: the TLS handshake (with client certificate) succeeds, then SCRAM runs inside."""
    security = mutual_tls(tls) | scram("SCRAM-SHA-512") | {"kafka_security_protocol": "SASL_SSL"}
    settings = settings_for(sasl_tls_broker.port, **security)
    with pytest.raises(BrokerUnavailable, match="refused SCRAM-SHA-512 as 'alice'"):
        await ensure_topics(settings)
    assert "finsent-test-client" in sasl_tls_broker.clients


# --- the worker's own clients -----------------------------------------------------------------


@pytest.mark.slow
async def test_worker_scores_through_mutual_tls(
    tls_broker: TlsFront,
    tls: TlsFiles,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
    stream_settings: StreamSettings,
) -> None:
    """`finsent worker` consumes, publishes and commits through a TLS-only listener."""
    security = mutual_tls(tls)
    secured = StreamSettings(
        **stream_settings.model_dump(exclude={"kafka_bootstrap", *security}),
        kafka_bootstrap=f"{LOOPBACK}:{tls_broker.port}",
        **security,
    )
    await send_values(secured, headline_items(20, prefix="tls"))
    env = {f"FINSENT_{k.upper()}": str(v) for k, v in security.items()}
    worker = start_worker(FINSENT_KAFKA_BOOTSTRAP=secured.kafka_bootstrap, **env)
    assert wait_for_count(database, "select count(*) from documents", 20) == 20
    scored = await read_topic(secured, secured.topic_scored, expect=20)
    assert len(scored) == 20
    assert worker.poll() is None
