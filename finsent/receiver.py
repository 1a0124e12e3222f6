"""A webhook receiver on loopback for the demo: verifies each Standard Webhooks signature and
hands the verified alert events to a callback (the demo prints them)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class ReceivedAlert:
    """One verified delivery: the event (firing/resolved) and the alert's summary line."""

    webhook_id: str
    status: str
    summary: str


def parse_alert(webhook_id: str, body: dict[str, Any]) -> ReceivedAlert:
    """Read an Alertmanager v4 body (what finsent sends); tolerant of missing fields."""
    alerts = body.get("alerts") or [{}]
    annotations = alerts[0].get("annotations") or body.get("commonAnnotations") or {}
    summary = annotations.get("summary") or json.dumps(alerts[0].get("labels", {}))
    return ReceivedAlert(webhook_id, str(body.get("status", "?")), str(summary))


class WebhookReceiver:
    """`http://127.0.0.1:<port>/webhook`; answers 204 when the signature holds, 401 when not."""

    def __init__(self, secret: str, on_alert: Callable[[ReceivedAlert], None]) -> None:
        self._webhook = Webhook(secret)
        self._on_alert = on_alert
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()
        self.received: list[ReceivedAlert] = []
        self.rejected = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhook"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        """Verify and record one delivery; the HTTP status to answer with."""
        try:
            payload = self._webhook.verify(body, headers)
        except WebhookVerificationError as e:
            with self._lock:
                self.rejected += 1
            log.warning("rejected a webhook with a bad signature: %s", e)
            return 401
        alert = parse_alert(headers.get("webhook-id", ""), payload)
        with self._lock:
            if any(r.webhook_id == alert.webhook_id for r in self.received):
                return 204  # a retry of a delivery we already have: at-least-once, shown once
            self.received.append(alert)
        self._on_alert(alert)
        return 204

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = min(int(self.headers.get("content-length") or 0), MAX_BODY)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                self.send_response(receiver.handle(body, headers))
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("receiver: " + format, *args)

        return Handler
