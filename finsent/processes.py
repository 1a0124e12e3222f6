"""Child processes the demo runs, each in its own process group, so stopping one stops all of
its descendants (Streamlit, faust threads, anything they spawn) and none is left behind."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

FINSENT = (sys.executable, "-m", "finsent")


@dataclass
class Child:
    """`finsent <args>` (or any argv) with its output in `log_path`; `start()`, then `stop()`."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    log_path: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @classmethod
    def finsent(cls, name: str, args: tuple[str, ...], env: dict[str, str], logs: Path) -> Child:
        return cls(name, (*FINSENT, *args), env, logs / f"{name}.log")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        log.info("started %s (pid %d)", self.name, self._process.pid)
        return self

    def poll(self) -> int | None:
        """The exit status once the process has ended, else None."""
        return self._process.poll() if self._process else None

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM to the whole group, SIGKILL to what is left after `timeout_s`; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout_s)
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            # Descendants that outlived their parent still belong to the group.
            _signal_group(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 5) -> str:
        """The last lines of the child's output, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def _signal_group(pgid: int, signum: signal.Signals) -> bool:
    try:
        os.killpg(pgid, signum)
        return True
    except ProcessLookupError:
        return False
