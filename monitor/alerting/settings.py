"""Settings of the alert evaluator and the webhook delivery: rules, endpoints, secrets, timing."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from monitor.exceptions import WebhookConfigInvalid
from monitor.storage.records import mask_endpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
GENERATE_HINT = (
    'generate one with: python -c "import base64, os; '
    "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
)


class AlertSettings(BaseSettings):
    """`FINSENT_RULES`, `FINSENT_WEBHOOK_URLS`, `FINSENT_WEBHOOK_SECRET`, the alerter timing.

    `FINSENT_WEBHOOK_SECRET` may hold several secrets, comma- or space-separated, newest first:
    every delivery carries one signature per secret, so receivers can move to a new key while the
    old one still verifies."""

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # str(ValidationError) would quote a secret or a webhook token
    )

    rules: Path | None = None
    webhook_urls: Annotated[tuple[str, ...], NoDecode] = ()
    webhook_secret: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    alert_interval_s: float = Field(default=10.0, gt=0)
    alert_lateness_s: float = Field(default=60.0, ge=0)
    alert_max_windows: int = Field(default=2000, ge=1)
    alert_max_event_age_s: float = Field(default=3600.0, gt=0)
    # The leader re-reads each rule's whole baseline horizon this often (0: every cycle), so data
    # that arrived later than the incremental reads look back is counted in later baselines.
    alert_full_read_s: float = Field(default=3600.0, ge=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_retry_period_s: float = Field(default=24 * 3600.0, gt=0)
    webhook_backoff_s: float = Field(default=5.0, gt=0)
    webhook_backoff_max_s: float = Field(default=3600.0, gt=0)
    alerts_external_url: str = "http://127.0.0.1:8501"

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(url.strip() for url in value.split(",") if url.strip())
        return value

    @field_validator("webhook_urls")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for position, url in enumerate(value, 1):
            problem = endpoint_problem(url)
            if problem:  # the URL is shown masked: its path or query may be the credential
                shown = mask_endpoint(url)
                where = f" ({shown})" if shown != "(hidden)" else ""
                raise ValueError(f"endpoint {position} of {len(value)}{where}: {problem}")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret_list(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return tuple(value.replace(",", " ").split())
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secrets(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for position, secret in enumerate(value, 1):
            problem = _secret_problem(secret.get_secret_value())
            if problem:  # named by position: the value itself is never shown
                where = f"secret {position} of {len(value)}: " if len(value) > 1 else ""
                raise ValueError(f"{where}{problem}; {GENERATE_HINT}")
        return value

    def signing_secrets(self) -> tuple[str, ...]:
        """The secrets to sign with, newest first; raise when endpoints are configured without."""
        if not self.webhook_secret:
            raise WebhookConfigInvalid(
                f"FINSENT_WEBHOOK_SECRET: required to sign webhooks; {GENERATE_HINT}"
            )
        return tuple(secret.get_secret_value() for secret in self.webhook_secret)


def endpoint_problem(url: str) -> str | None:
    """What makes `url` unusable as a webhook endpoint (never echoing it), or None."""
    if not url.startswith(("http://", "https://")):
        return "expected an http:// or https:// URL"
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # `port` raises when it is not a number
    except ValueError:
        return "the host or port is malformed"
    return None if host else "the URL names no host"


def _secret_problem(raw: str) -> str | None:
    if not raw.startswith(SECRET_PREFIX):
        return "expected the form whsec_<base64 key>"
    try:
        key = base64.b64decode(raw.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return "the part after whsec_ is not base64"
    return "the key is shorter than 16 bytes" if len(key) < 16 else None
