"""Errors raised by the monitor package; the CLI prints them as one line."""


class MonitorError(Exception):
    """Root of every monitor error."""


class DatabaseUnavailable(MonitorError):
    """PostgreSQL could not be reached or refused the connection."""
