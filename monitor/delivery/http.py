"""The HTTP sender: POST the signed body, and what each answer means for the delivery."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from monitor.delivery.outbox import ERROR_CHARS, Delivery, Outcome, OutcomeKind
from monitor.delivery.payload import render
from monitor.delivery.signing import signed_headers
from monitor.storage.records import mask_endpoint, redact_secrets

RETRYABLE_4XX = frozenset({408, 429})


def classify(status: int, retry_after_s: float | None = None) -> Outcome:
    """What an HTTP status means for the delivery."""
    if 200 <= status < 300:
        return Outcome(OutcomeKind.delivered, status)
    if status >= 500 or status in RETRYABLE_4XX:
        return Outcome(OutcomeKind.retry, status, f"HTTP {status}", retry_after_s)
    hint = " (redirects are not followed: configure the final URL)" if status < 400 else ""
    return Outcome(OutcomeKind.failed, status, f"HTTP {status}{hint}")


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header (seconds or HTTP date) in seconds, capped at one hour."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), 3600.0)


class WebhookSender:
    """POSTs the signed body; a fresh timestamp and signatures per attempt, the same id.

    `secrets` newest first: each delivery carries one signature per secret (key rotation)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        secrets: tuple[str, ...],
        *,
        timeout_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not secrets:
            raise ValueError("secrets: a webhook sender needs at least one signing secret")
        self._client = client
        self._secrets = secrets
        self._timeout_s = timeout_s
        self._clock = clock

    async def __call__(self, delivery: Delivery) -> Outcome:
        body = render(delivery.payload)
        now = self._clock()
        headers = signed_headers(self._secrets, delivery.webhook_id, body, now)
        try:
            response = await self._client.post(
                delivery.endpoint, content=body.encode(), headers=headers, timeout=self._timeout_s
            )
        except httpx.TimeoutException:
            return Outcome(OutcomeKind.retry, error=f"timed out after {self._timeout_s:g}s")
        except httpx.InvalidURL as e:  # not an HTTPError; retrying will not mend the URL
            return Outcome(OutcomeKind.failed, error=_error_text(e, delivery.endpoint))
        except httpx.HTTPError as e:
            return Outcome(OutcomeKind.retry, error=_error_text(e, delivery.endpoint))
        return classify(
            response.status_code, retry_after_seconds(response.headers.get("retry-after"), now)
        )


def _error_text(error: Exception, endpoint: str) -> str:
    """The error for the outbox and the CLI: the endpoint, and any other URL, masked."""
    text = f"{type(error).__name__}: {error}".replace(endpoint, mask_endpoint(endpoint))
    return redact_secrets(text)[:ERROR_CHARS]
