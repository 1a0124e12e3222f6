"""Webhook bodies and signatures, without a network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from monitor.alerting.settings import AlertSettings
from monitor.delivery.payload import (
    NOT_ENDED,
    alertmanager_body,
    new_webhook_id,
    render,
    sample_alert,
)
from monitor.delivery.signing import signed_headers
from monitor.exceptions import WebhookConfigInvalid

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signature_is_hmac_sha256_of_id_timestamp_body_with_the_decoded_key() -> None:
    now = datetime.now(UTC)
    body = render(alertmanager_body(sample_alert(now), external_url="http://x"))
    headers = signed_headers((SECRET,), "msg_1", body, now)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, f"msg_1.{int(now.timestamp())}.{body}".encode(), hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()
    assert headers["webhook-id"] == "msg_1"
    assert Webhook(SECRET).verify(body, headers)["version"] == "4"


def test_alertmanager_v4_shape() -> None:
    now = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    firing = sample_alert(now)
    body = alertmanager_body(firing, external_url="http://dash")
    assert set(body) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    (alert,) = body["alerts"]
    assert set(alert) == {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    }
    assert alert["endsAt"] == NOT_ENDED and alert["startsAt"] == "2026-11-02T11:00:00Z"
    assert all(isinstance(v, str) for v in alert["annotations"].values())
    assert "This is a test event" in alert["annotations"]["headlines"]
    resolved = alertmanager_body(
        firing.__class__(
            **{**_fields(firing), "status": "resolved", "resolved_at": now + timedelta(minutes=20)}
        ),
        external_url="http://dash",
    )
    assert resolved["alerts"][0]["endsAt"] == "2026-11-02T11:20:00Z"
    assert resolved["alerts"][0]["fingerprint"] == alert["fingerprint"]
    json.dumps(body)


def _fields(alert: object) -> dict[str, object]:
    return {name: getattr(alert, name) for name in alert.__slots__}  # type: ignore[attr-defined]


def test_webhook_ids_are_unique() -> None:
    assert len({new_webhook_id() for _ in range(100)}) == 100


def test_settings_split_urls_and_check_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_WEBHOOK_URLS", "http://a/x, https://b/y")
    monkeypatch.setenv("FINSENT_WEBHOOK_SECRET", SECRET)
    settings = AlertSettings()
    assert settings.webhook_urls == ("http://a/x", "https://b/y")
    assert SECRET not in repr(settings)
    with pytest.raises(ValidationError, match="whsec_"):
        AlertSettings(webhook_secret="plain-password")
    with pytest.raises(ValidationError, match="http"):
        AlertSettings(webhook_urls="ftp://nope")
    monkeypatch.delenv("FINSENT_WEBHOOK_SECRET")
    with pytest.raises(WebhookConfigInvalid, match="FINSENT_WEBHOOK_SECRET"):
        AlertSettings().signing_secrets()
