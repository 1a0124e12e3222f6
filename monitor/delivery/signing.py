"""Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks import Webhook


def signed_headers(secret: str, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers; the signature covers `id.timestamp.body`."""
    signature = Webhook(secret).sign(webhook_id, at, body)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
