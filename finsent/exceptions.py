"""Errors raised by the wiring in finsent/ itself; the CLI prints them as one line."""


class FinsentError(Exception):
    """Root of every error of the finsent package."""


class MetricsUnavailable(FinsentError):
    """The metrics and health endpoint cannot listen where its settings say."""
