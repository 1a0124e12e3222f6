"""Kafka TLS and SASL settings: each validation error names its setting, `client_options` maps
each protocol and mechanism to aiokafka's arguments, and every client in the code is built with
`client_options`."""

from __future__ import annotations

import ast
import asyncio
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from finsent.errors import format_settings_error
from stream.exceptions import KafkaSecurityError
from stream.kafka import client_options
from stream.settings import KAFKA_SECURITY_ENV, StreamSettings
from tests.stream.tls_files import TlsFiles, make_tls_files

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "planted-Pa55word"  # noqa: S105 - a test value that must never be shown
SASL = {"kafka_sasl_username": "alice", "kafka_sasl_password": PASSWORD}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(autouse=True)
def _no_kafka_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The settings these tests build come from their arguments, not the caller's environment."""
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("FINSENT_KAFKA_SECURITY_PROTOCOL", *KAFKA_SECURITY_ENV):
        monkeypatch.delenv(name, raising=False)


def problems(**values: Any) -> dict[str, str]:
    """Setting name -> message of each problem `StreamSettings(**values)` reports."""
    with pytest.raises(ValidationError) as caught:
        StreamSettings(**values)
    return {f"FINSENT_{str(p['loc'][0]).upper()}": p["msg"] for p in caught.value.errors()}


# --- the mapping ----------------------------------------------------------------------------


def test_plaintext_is_the_default_and_adds_no_security() -> None:
    options = client_options(StreamSettings(kafka_bootstrap="k1:9092, k2:9093"))
    assert options == {
        "bootstrap_servers": ["k1:9092", "k2:9093"],
        "security_protocol": "PLAINTEXT",
    }


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_plaintext_passes_mechanism_and_credentials(mechanism: str) -> None:
    settings = StreamSettings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism=mechanism, **SASL
    )
    assert client_options(settings) == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }


def test_names_are_read_in_any_case() -> None:
    settings = StreamSettings(
        kafka_security_protocol=" sasl_plaintext", kafka_sasl_mechanism="scram-sha-256", **SASL
    )
    options = client_options(settings)
    assert (options["security_protocol"], options["sasl_mechanism"]) == (
        "SASL_PLAINTEXT",
        "SCRAM-SHA-256",
    )


def test_ssl_context_verifies_the_broker_against_the_given_ca(tls: TlsFiles) -> None:
    options = client_options(
        StreamSettings(kafka_security_protocol="SSL", kafka_ssl_ca_file=tls.ca)
    )
    context = options.pop("ssl_context")
    assert options == {"bootstrap_servers": ["127.0.0.1:9092"], "security_protocol": "SSL"}
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    issuers = [dict(x[0] for x in ca["subject"]) for ca in context.get_ca_certs()]
    assert {"commonName": "finsent-test-ca"} in issuers


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_passes_both(tls: TlsFiles, mechanism: str) -> None:
    settings = StreamSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=mechanism,
        kafka_ssl_ca_file=tls.ca,
        **SASL,
    )
    options = client_options(settings)
    assert isinstance(options.pop("ssl_context"), ssl.SSLContext)
    assert options == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }


def test_sasl_ssl_without_a_ca_file_trusts_the_system_cas() -> None:
    settings = StreamSettings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="PLAIN", **SASL
    )
    context = client_options(settings)["ssl_context"]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


async def test_every_client_kind_accepts_the_options(tls: TlsFiles) -> None:
    """aiokafka checks protocol, mechanism and context when a client is built, not started."""
    settings = StreamSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_ssl_ca_file=tls.ca,
        **SASL,
    )
    options = client_options(settings)
    producer = AIOKafkaProducer(**options)
    consumer = AIOKafkaConsumer("t", **options)
    admin = AIOKafkaAdminClient(**options)
    assert producer.client._security_protocol == "SASL_SSL"
    assert consumer._client._sasl_mechanism == "SCRAM-SHA-512"
    assert admin._client._sasl_plain_password == PASSWORD
    await producer.stop()
    await consumer.stop()
    await admin.close()


def test_a_tls_file_gone_since_the_check_is_a_one_line_error(tls: TlsFiles, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(tls.ca.read_bytes())
    settings = StreamSettings(kafka_security_protocol="SSL", kafka_ssl_ca_file=ca)
    ca.unlink()
    with pytest.raises(KafkaSecurityError, match="FINSENT_KAFKA_SSL_CA_FILE"):
        client_options(settings)


# --- the TLS context against a real TLS server (no broker needed) ---------------------------


@pytest.fixture
def tls_server(tls: TlsFiles) -> Iterator[tuple[int, list[str]]]:
    """A loopback TLS server that requires a client certificate from the test CA; yields its
    port and the common names of the clients that completed a handshake."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tls.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(tls.server_cert, tls.server_key)
    clients: list[str] = []

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        clients.append(dict(x[0] for x in peer["subject"])["commonName"])
        writer.write(b"hello")
        await writer.drain()
        writer.close()

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        asyncio.start_server(greet, "127.0.0.1", 0, ssl=context, reuse_address=True)
    )
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield port, clients
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


async def _handshake(context: ssl.SSLContext, port: int) -> bytes:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context), timeout=10
    )
    try:
        return await asyncio.wait_for(reader.read(5), timeout=10)
    finally:
        writer.close()


async def test_ssl_context_presents_the_client_certificate(
    tls: TlsFiles, tls_server: tuple[int, list[str]]
) -> None:
    port, clients = tls_server
    settings = StreamSettings(
        kafka_bootstrap=f"127.0.0.1:{port}",
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=tls.ca,
        kafka_ssl_cert_file=tls.client_cert,
        kafka_ssl_key_file=tls.client_key,
    )
    assert await _handshake(client_options(settings)["ssl_context"], port) == b"hello"
    assert clients == ["finsent-test-client"]


async def test_ssl_context_without_the_ca_rejects_the_test_server(
    tls_server: tuple[int, list[str]],
) -> None:
    port, clients = tls_server
    settings = StreamSettings(kafka_security_protocol="SSL")
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(client_options(settings)["ssl_context"], port)
    assert clients == []


# --- validation: one problem per setting, each naming it ------------------------------------


def test_unknown_protocol_and_mechanism_name_their_settings() -> None:
    found = problems(kafka_security_protocol="TLS")
    assert list(found) == ["FINSENT_KAFKA_SECURITY_PROTOCOL"]
    assert "SASL_SSL" in found["FINSENT_KAFKA_SECURITY_PROTOCOL"]
    found = problems(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="GSSAPI", **SASL)
    assert list(found) == ["FINSENT_KAFKA_SASL_MECHANISM"]
    assert "SCRAM-SHA-512" in found["FINSENT_KAFKA_SASL_MECHANISM"]


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_protocol_needs_mechanism_username_and_password(protocol: str) -> None:
    found = problems(kafka_security_protocol=protocol)
    assert found == {
        name: f"Value error, required when FINSENT_KAFKA_SECURITY_PROTOCOL is {protocol}"
        for name in (
            "FINSENT_KAFKA_SASL_MECHANISM",
            "FINSENT_KAFKA_SASL_USERNAME",
            "FINSENT_KAFKA_SASL_PASSWORD",
        )
    }


def test_sasl_without_password_names_only_the_password() -> None:
    found = problems(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="PLAIN", kafka_sasl_username="a"
    )
    assert list(found) == ["FINSENT_KAFKA_SASL_PASSWORD"]


def test_an_empty_value_is_unset() -> None:
    found = problems(kafka_security_protocol="SASL_SSL", kafka_sasl_username="", **{
        "kafka_sasl_mechanism": "PLAIN", "kafka_sasl_password": PASSWORD})  # fmt: skip
    assert list(found) == ["FINSENT_KAFKA_SASL_USERNAME"]
    assert StreamSettings(kafka_ssl_ca_file="").kafka_ssl_ca_file is None


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
def test_sasl_settings_without_a_sasl_protocol_are_refused(protocol: str) -> None:
    found = problems(kafka_security_protocol=protocol, kafka_sasl_mechanism="PLAIN", **SASL)
    assert set(found) == {
        "FINSENT_KAFKA_SASL_MECHANISM",
        "FINSENT_KAFKA_SASL_USERNAME",
        "FINSENT_KAFKA_SASL_PASSWORD",
    }
    assert all(f"which is {protocol}" in message for message in found.values())


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_ssl_files_without_an_ssl_protocol_are_refused(tls: TlsFiles, protocol: str) -> None:
    extra = SASL | {"kafka_sasl_mechanism": "PLAIN"} if protocol == "SASL_PLAINTEXT" else {}
    found = problems(kafka_security_protocol=protocol, kafka_ssl_ca_file=tls.ca, **extra)
    assert list(found) == ["FINSENT_KAFKA_SSL_CA_FILE"]
    assert f"SSL or SASL_SSL, which is {protocol}" in found["FINSENT_KAFKA_SSL_CA_FILE"]


@pytest.mark.parametrize("setting", ["kafka_ssl_ca_file", "kafka_ssl_cert_file"])
def test_missing_or_unreadable_file_names_its_setting(
    tls: TlsFiles, tmp_path: Path, setting: str
) -> None:
    pair = {"kafka_ssl_key_file": tls.client_key} if setting == "kafka_ssl_cert_file" else {}
    missing = problems(kafka_security_protocol="SSL", **{setting: tmp_path / "nope.pem"}, **pair)
    assert list(missing) == [f"FINSENT_{setting.upper()}"]
    assert "No such file or directory" in missing[f"FINSENT_{setting.upper()}"]
    # A folder cannot be read as a file (and root reads any mode-000 file, so no chmod here).
    folder = problems(kafka_security_protocol="SSL", **{setting: tmp_path}, **pair)
    assert "Is a directory" in folder[f"FINSENT_{setting.upper()}"]


def test_ca_file_that_is_not_pem_is_refused(tls: TlsFiles) -> None:
    found = problems(kafka_security_protocol="SSL", kafka_ssl_ca_file=tls.not_pem)
    assert list(found) == ["FINSENT_KAFKA_SSL_CA_FILE"]
    assert "holds no PEM CA certificate" in found["FINSENT_KAFKA_SSL_CA_FILE"]


def test_cert_without_its_key_and_key_without_cert_are_refused(tls: TlsFiles) -> None:
    found = problems(kafka_security_protocol="SSL", kafka_ssl_cert_file=tls.client_cert)
    assert found == {
        "FINSENT_KAFKA_SSL_KEY_FILE": "Value error, required when FINSENT_KAFKA_SSL_CERT_FILE "
        "is set (it may name the same file)"
    }
    found = problems(kafka_security_protocol="SSL", kafka_ssl_key_file=tls.client_key)
    assert found == {
        "FINSENT_KAFKA_SSL_KEY_FILE": "Value error, only used with FINSENT_KAFKA_SSL_CERT_FILE, "
        "which is not set"
    }


def test_key_of_another_certificate_is_refused(tls: TlsFiles) -> None:
    found = problems(
        kafka_security_protocol="SSL",
        kafka_ssl_cert_file=tls.client_cert,
        kafka_ssl_key_file=tls.other_key,
    )
    assert list(found) == ["FINSENT_KAFKA_SSL_KEY_FILE"]
    assert "do not load as a PEM certificate and its key" in found["FINSENT_KAFKA_SSL_KEY_FILE"]


def test_encrypted_key_is_refused_without_prompting(tls: TlsFiles) -> None:
    found = problems(
        kafka_security_protocol="SSL",
        kafka_ssl_cert_file=tls.client_cert,
        kafka_ssl_key_file=tls.encrypted_client_key,
    )
    assert list(found) == ["FINSENT_KAFKA_SSL_KEY_FILE"]
    assert "is encrypted" in found["FINSENT_KAFKA_SSL_KEY_FILE"]


def test_cert_and_key_in_one_file_are_accepted(tls: TlsFiles, tmp_path: Path) -> None:
    both = tmp_path / "client-both.pem"
    both.write_bytes(tls.client_cert.read_bytes() + tls.client_key.read_bytes())
    settings = StreamSettings(
        kafka_security_protocol="SSL", kafka_ssl_cert_file=both, kafka_ssl_key_file=both
    )
    assert isinstance(client_options(settings)["ssl_context"], ssl.SSLContext)


def test_password_never_appears_in_any_rendering_of_an_error() -> None:
    with pytest.raises(ValidationError) as caught:
        StreamSettings(
            kafka_bootstrap="not-a-host-port", kafka_sasl_password=PASSWORD, kafka_sasl_username="a"
        )
    error = caught.value
    assert {p["loc"][0] for p in error.errors()} == {
        "kafka_bootstrap",
        "kafka_sasl_username",
        "kafka_sasl_password",
    }
    for shown in (str(error), repr(error), format_settings_error(error)):
        assert PASSWORD not in shown
    assert "FINSENT_KAFKA_SASL_PASSWORD: Value error, only used with" in format_settings_error(
        error
    )


def test_settings_repr_masks_the_password() -> None:
    settings = StreamSettings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN", **SASL
    )
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings.model_dump())


# --- every aiokafka client is built with client_options -------------------------------------

CLIENT_CLASSES = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "AIOKafkaClient"}


def _client_calls(tree: ast.Module) -> Iterator[ast.Call]:
    """Calls of an aiokafka client class, however imported or renamed."""
    names = set(CLIENT_CLASSES)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiokafka"):
            names |= {a.asname for a in node.names if a.name in CLIENT_CLASSES and a.asname}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in names:
                yield node


def _uses_client_options(call: ast.Call) -> bool:
    return any(
        k.arg is None
        and isinstance(k.value, ast.Call)
        and getattr(k.value.func, "id", getattr(k.value.func, "attr", "")) == "client_options"
        for k in call.keywords
    ) and not any(k.arg in {"bootstrap_servers", "security_protocol"} for k in call.keywords)


def test_every_kafka_client_is_built_with_client_options() -> None:
    found, bypassing = 0, []
    for package in ("stream", "finsent", "monitor", "bench"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for call in _client_calls(ast.parse(path.read_text(), str(path))):
                found += 1
                if not _uses_client_options(call):
                    bypassing.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert bypassing == [], "build these clients with **client_options(settings)"
    # The worker's consumer and producer and stream/kafka.py's three: the scan sees them.
    assert found >= 5


def test_the_scan_catches_a_client_built_without_client_options() -> None:
    source = (
        "from aiokafka import AIOKafkaProducer as P\n"
        "import aiokafka\n"
        "a = P(bootstrap_servers=['x:1'])\n"
        "b = aiokafka.AIOKafkaConsumer('t', **client_options(s), bootstrap_servers=['x:1'])\n"
        "c = aiokafka.AIOKafkaConsumer('t', **client_options(s))\n"
    )
    verdicts = [_uses_client_options(c) for c in _client_calls(ast.parse(source))]
    assert sorted(verdicts) == [False, False, True]
