"""Kafka TLS and SASL: the protocols and mechanisms finsent speaks, checks of the TLS files, and
the client's SSL context built from them."""

from __future__ import annotations

import ssl
from enum import StrEnum
from pathlib import Path

from aiokafka.helpers import create_ssl_context


class SecurityProtocol(StrEnum):
    """Kafka's `security.protocol`: TLS or not, SASL or not."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"

    @property
    def uses_sasl(self) -> bool:
        return self in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)

    @property
    def uses_ssl(self) -> bool:
        return self in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)


class SaslMechanism(StrEnum):
    """The SASL mechanisms with a username and a password (GSSAPI and OAUTHBEARER are not)."""

    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class _EncryptedKey(Exception):
    pass


def _no_key_password() -> str:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key's passphrase,
    # and a worker has no one at its terminal: fail instead.
    raise _EncryptedKey


def ssl_context(
    ca_file: Path | None, cert_file: Path | None, key_file: Path | None
) -> ssl.SSLContext:
    """A client context that verifies the broker's certificate and host name against `ca_file`,
    or the system's CAs when it is None, and presents `cert_file` when it is set.

    Raises `ValueError` saying why the files do not load.
    """
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=ca_file, certfile=cert_file, keyfile=key_file, password=_no_key_password
        )
    except _EncryptedKey as e:
        raise ValueError(f"{str(key_file)!r} is encrypted") from e
    except OSError as e:  # ssl.SSLError included
        raise ValueError(str(e)) from e
    return context


def check_readable(path: Path) -> None:
    """Raise `ValueError` saying why `path` cannot be read."""
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as e:
        raise ValueError(f"cannot read {str(path)!r}: {e.strerror}") from e


def check_ca_file(path: Path) -> None:
    """Raise `ValueError` unless `path` holds PEM CA certificates."""
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as e:
        raise ValueError(f"{str(path)!r} holds no PEM CA certificate ({e.reason or e})") from e


def check_cert_and_key(cert_file: Path, key_file: Path) -> None:
    """Raise `ValueError` unless the PEM certificate and unencrypted PEM key load as a pair."""
    context = ssl.create_default_context()
    try:
        context.load_cert_chain(cert_file, key_file, password=_no_key_password)
    except _EncryptedKey as e:
        raise ValueError(
            f"{str(key_file)!r} is encrypted; give an unencrypted PEM key "
            "(`openssl pkey -in KEY -out KEY.plain` asks for the passphrase once)"
        ) from e
    except ssl.SSLError as e:
        raise ValueError(
            f"{str(cert_file)!r} and {str(key_file)!r} do not load as a PEM certificate and "
            f"its key ({e.reason or e})"
        ) from e
