"""Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, one per
secret while a key is being rotated."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks import Webhook


def signed_headers(
    secrets: tuple[str, ...], webhook_id: str, body: str, at: datetime
) -> dict[str, str]:
    """Standard Webhooks headers; each signature covers `id.timestamp.body`.

    `webhook-signature` lists one `v1,<sig>` per secret, space-separated, in the order given
    (newest first): a receiver holding any one of the keys finds its own among them.
    """
    if not secrets:
        raise ValueError("secrets: at least one signing secret is needed")
    signature = " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in secrets)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
