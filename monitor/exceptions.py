"""Errors raised by the monitor package; the CLI prints them as one line."""


class MonitorError(Exception):
    """Root of every monitor error."""


class DatabaseUnavailable(MonitorError):
    """PostgreSQL could not be reached or refused the connection."""


class RulesInvalid(MonitorError):
    """The alert rules file cannot be read or breaks a rule; the message names the line."""


class WebhookConfigInvalid(MonitorError):
    """Webhook endpoints or the signing secret are missing or malformed."""


class AlertNotFound(MonitorError):
    """No alert has the requested id."""


class RoleGrantFailed(MonitorError):
    """The read-only role cannot be set up as asked; nothing was changed. The message says why."""


class PruneFailed(MonitorError):
    """A retention batch failed; it was rolled back, earlier batches stay deleted."""


class BackfillFailed(MonitorError):
    """A rollup backfill batch failed; it was rolled back and the backfill can simply be re-run."""
