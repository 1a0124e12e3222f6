"""The read models of stored rows: one frozen value per row kind for every reader (the CLI, the
dashboard, webhook bodies), and how their sensitive parts are shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from monitor.storage.models import Alert, AlertDelivery, Document

_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
# `user:password@host` with no scheme before it, as in a database URL typed without `postgresql://`.
_BARE_USERINFO = re.compile(r"(?<![\w.%+-])(?P<user>[\w.%+-]+):[^\s@/'\"]+@(?=[\w\[])")
# Where alerts go: their paths and queries often are the credential (Slack, Teams, PagerDuty).
ENDPOINT_SCHEMES = frozenset({"http", "https", "ws", "wss"})
KAFKA_SCHEME = "kafka"


@dataclass(frozen=True, slots=True)
class Headline:
    """One stored item as a list of news shows it."""

    id: str
    published_at: datetime
    source: str
    headline: str
    tickers: tuple[str, ...]
    topic: str
    sentiment: str
    score: float
    p_negative: float
    url: str | None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert episode, with the headlines that drove it when the reader asked for them.

    From migration 0004 on, `observed` and `expected` are negative counts (or mean scores),
    `baseline` the baseline's rate and `deviation` the z score, and `explanation` says so in
    words; older rows have no `expected` and carry window shares."""

    id: int
    rule: str
    dimension: str
    key: str
    status: str
    metric: str
    started_at: datetime
    resolved_at: datetime | None
    window_start: datetime
    window_end: datetime
    observed: float
    baseline: float
    deviation: float
    volume: int
    document_ids: tuple[str, ...] = ()
    expected: float | None = None
    explanation: str | None = None
    headlines: tuple[Headline, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """Where one alert event stands with one endpoint; `endpoint` is raw: show `shown_endpoint`."""

    id: int
    alert_id: int
    event: str
    endpoint: str
    webhook_id: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    gave_up_at: datetime | None
    last_status: int | None
    last_error: str | None

    @property
    def state(self) -> str:
        """delivered, gave up, retrying (failed at least once) or pending."""
        if self.delivered_at is not None:
            return "delivered"
        if self.gave_up_at is not None:
            return "gave up"
        return "retrying" if self.attempts > 0 else "pending"

    @property
    def shown_endpoint(self) -> str:
        return mask_endpoint(self.endpoint)

    @property
    def shown_error(self) -> str:
        """The first line of the last error, URLs masked and secrets removed."""
        if not self.last_error or not self.last_error.strip():
            return ""
        return redact_secrets(self.last_error.strip().splitlines()[0][:300])


def mask_endpoint(url: str) -> str:
    """Scheme, host and port only: webhook paths, queries and user info often carry tokens."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # a bad port or IPv6 literal: nothing of it is safe to show
        return "(hidden)"
    if parts.scheme.lower() == KAFKA_SCHEME and not parts.netloc and " " not in url:
        return url  # `kafka:TOPIC` names a topic, not a secret
    if not parts.scheme or not host:
        return "(hidden)"
    shown_port = f":{port}" if port else ""
    hidden = "/…" if parts.path not in ("", "/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{shown_port}{hidden}"


def mask_url(url: str) -> str:
    """Endpoints as `mask_endpoint` shows them; other URLs (databases) keep user, host, port and
    path, with the password as `***` and any query or fragment as `…`."""
    if url.split(":", 1)[0].lower() in ENDPOINT_SCHEMES:
        return mask_endpoint(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(hidden)"
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    query = "?…" if parts.query else ""
    fragment = "#…" if parts.fragment else ""
    return f"{parts.scheme}://{user}{colon and ':***'}{at}{hostport}{parts.path}{query}{fragment}"


def redact_secrets(text: str) -> str:
    """`text` safe to print or log: every URL in it as `mask_url` shows it, `user:password@`
    outside URLs as `user:***@`, and `whsec_…` signing secrets as `whsec_***`."""
    text = _URL.sub(lambda m: mask_url(m.group(0)), text)
    text = _BARE_USERINFO.sub(r"\g<user>:***@", text)
    return _WEBHOOK_SECRET.sub("whsec_***", text)


def headline_of(doc: Document) -> Headline:
    return Headline(
        id=doc.id,
        published_at=doc.published_at,
        source=doc.source,
        headline=doc.headline,
        tickers=tuple(doc.tickers or ()),
        topic=doc.topic,
        sentiment=doc.sentiment,
        score=doc.score,
        p_negative=doc.p_negative,
        url=doc.url,
    )


def alert_record(alert: Alert, headlines: tuple[Headline, ...] = ()) -> AlertRecord:
    return AlertRecord(
        id=alert.id,
        rule=alert.rule,
        dimension=alert.dimension,
        key=alert.key,
        status=alert.status,
        metric=alert.metric,
        started_at=alert.started_at,
        resolved_at=alert.resolved_at,
        window_start=alert.window_start,
        window_end=alert.window_end,
        observed=alert.observed,
        baseline=alert.baseline,
        deviation=alert.deviation,
        volume=alert.volume,
        document_ids=tuple(alert.document_ids or ()),
        expected=alert.expected,
        explanation=alert.explanation,
        headlines=headlines,
    )


def delivery_record(row: AlertDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        alert_id=row.alert_id,
        event=row.event,
        endpoint=row.endpoint,
        webhook_id=row.webhook_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        gave_up_at=row.gave_up_at,
        last_status=row.last_status,
        last_error=row.last_error,
    )
