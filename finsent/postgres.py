"""A private PostgreSQL cluster for the demo and the tests, when no server is configured or running.

Uses the PostgreSQL binaries installed on the machine; as root it runs them as the `postgres` user
(initdb refuses to run as root).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from monitor.exceptions import DatabaseUnavailable

log = logging.getLogger(__name__)

SERVICE_USER = "postgres"


def server_answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def postgres_bin_dir() -> Path:
    """The newest installed server's bin folder (Debian layout), or wherever `pg_ctl` is on PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3])
    if debian:
        return debian[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise DatabaseUnavailable(
        "no PostgreSQL server is installed; set FINSENT_DATABASE_URL to a server you run"
    )


@dataclass(frozen=True)
class PrivateCluster:
    """A cluster in `data_dir`, listening on 127.0.0.1:`port` with trust auth for local users."""

    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SERVICE_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivateCluster:
        """initdb on first use, then start the server; returns once it accepts connections."""
        bin_dir = postgres_bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, SERVICE_USER, SERVICE_USER)
        if not (self.data_dir / "PG_VERSION").exists():
            log.info("initialising a PostgreSQL cluster in %s", self.data_dir)
            self._run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SERVICE_USER]
                + ["--auth=trust", "--encoding=UTF8", "--no-sync"]
            )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
        log.info("starting PostgreSQL on 127.0.0.1:%d", self.port)
        self._run(
            [str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options, "-w", "-t", "60"]
            + ["-l", str(self.data_dir / "server.log"), "start"]
        )
        return self

    def stop(self) -> None:
        """Fast shutdown; a cluster that is not running is left as it is."""
        pg_ctl = postgres_bin_dir() / "pg_ctl"
        if (self.data_dir / "postmaster.pid").exists():
            self._run([str(pg_ctl), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def _run(self, argv: list[str]) -> None:
        program = Path(argv[0]).name
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()[-400:]
            raise DatabaseUnavailable(f"{program} failed: {output}")
