"""Settings of the alert evaluator and the webhook delivery: rules, endpoints, secret, timing."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from monitor.exceptions import WebhookConfigInvalid

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
GENERATE_HINT = (
    'generate one with: python -c "import base64, os; '
    "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
)


class AlertSettings(BaseSettings):
    """`FINSENT_RULES`, `FINSENT_WEBHOOK_URLS`, `FINSENT_WEBHOOK_SECRET`, the alerter timing."""

    model_config = SettingsConfigDict(
        env_prefix="FINSENT_", env_file=".env", extra="ignore", frozen=True
    )

    rules: Path | None = None
    webhook_urls: Annotated[tuple[str, ...], NoDecode] = ()
    webhook_secret: SecretStr | None = None
    alert_interval_s: float = Field(default=10.0, gt=0)
    alert_lateness_s: float = Field(default=60.0, ge=0)
    alert_max_windows: int = Field(default=2000, ge=1)
    alert_max_event_age_s: float = Field(default=3600.0, gt=0)
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
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"expected http:// or https:// endpoints, got {url!r}")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if not raw.startswith(SECRET_PREFIX):
            raise ValueError(f"expected the form whsec_<base64 key>; {GENERATE_HINT}")
        try:
            key = base64.b64decode(raw.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"the part after whsec_ is not base64; {GENERATE_HINT}") from e
        if len(key) < 16:
            raise ValueError(f"the key is shorter than 16 bytes; {GENERATE_HINT}")
        return value

    def signing_secret(self) -> str:
        """The secret, for signing; raise when endpoints are configured without one."""
        if self.webhook_secret is None:
            raise WebhookConfigInvalid(
                f"FINSENT_WEBHOOK_SECRET: required to sign webhooks; {GENERATE_HINT}"
            )
        return self.webhook_secret.get_secret_value()
