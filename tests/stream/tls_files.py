"""Throwaway PEM files for the Kafka TLS tests, made with the `openssl` command: a CA, a server
certificate for 127.0.0.1 and localhost, a client certificate, and some broken ones."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_LEAF_EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "authorityKeyIdentifier=keyid,issuer\n"
    "subjectKeyIdentifier=hash\n"
)


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    encrypted_client_key: Path
    other_key: Path  # belongs to no certificate here
    not_pem: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60
    )


def _leaf(name: str, san: str, usage: str, folder: Path) -> None:
    (folder / f"{name}.ext").write_text(
        f"{_LEAF_EXTENSIONS}extendedKeyUsage={usage}\nsubjectAltName={san}\n"
    )
    _openssl("req", *_EC, "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN=finsent-test-{name}", cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "30", "-out", f"{name}.pem",
             "-extfile", f"{name}.ext", cwd=folder)  # fmt: skip


def make_tls_files(folder: Path) -> TlsFiles:
    """Write the files into `folder`; skips the test where no `openssl` command is installed."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    _openssl("req", "-x509", *_EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=finsent-test-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
    _leaf("server", "IP:127.0.0.1,DNS:localhost", "serverAuth", folder)
    _leaf("client", "DNS:finsent-client", "clientAuth", folder)
    _openssl("pkey", "-in", "client.key", "-out", "client-encrypted.key", "-aes256",
             "-passout", "pass:finsent-test", cwd=folder)  # fmt: skip
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-out", "other.key", cwd=folder)  # fmt: skip
    (folder / "not.pem").write_text("this is not a certificate\n")
    return TlsFiles(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        encrypted_client_key=folder / "client-encrypted.key",
        other_key=folder / "other.key",
        not_pem=folder / "not.pem",
    )
