"""Read models show their sensitive parts safely: endpoints masked, secrets redacted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.storage.records import DeliveryRecord, mask_endpoint, redact_secrets

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/secret", "https://hooks.slack.com/…"),
        ("http://user:pw@127.0.0.1:8080/hook?token=x", "http://127.0.0.1:8080/…"),
        ("https://example.com", "https://example.com"),
        ("not a url", "(hidden)"),
        ("kafka:sentiment.alerts", "kafka:sentiment.alerts"),
    ],
)
def test_mask_endpoint_keeps_only_scheme_host_port(url: str, shown: str) -> None:
    assert mask_endpoint(url) == shown


def test_clean_error_is_one_line_without_urls_or_secrets() -> None:
    error = "POST https://h.example/t/XYZ failed: whsec_abc123== rejected\ntraceback..."
    assert (
        _delivery(last_error=error).shown_error
        == "POST https://h.example/… failed: whsec_*** rejected"
    )
    assert _delivery().shown_error == ""


def _delivery(**values: object) -> DeliveryRecord:
    base: dict[str, object] = {
        "id": 1,
        "alert_id": 1,
        "event": "firing",
        "endpoint": "https://h.example/x",
        "webhook_id": "msg_1",
        "attempts": 0,
        "next_attempt_at": T0,
        "delivered_at": None,
        "gave_up_at": None,
        "last_status": None,
        "last_error": None,
    }
    return DeliveryRecord(**{**base, **values})  # type: ignore[arg-type]


def test_delivery_state() -> None:
    assert _delivery().state == "pending"
    assert _delivery(attempts=2).state == "retrying"
    assert _delivery(attempts=9, gave_up_at=T0).state == "gave up"
    assert _delivery(attempts=1, delivered_at=T0).state == "delivered"
    assert _delivery().shown_endpoint == "https://h.example/…"


def test_secrets_are_redacted() -> None:
    assert redact_secrets("key whsec_QUJD+/= used") == "key whsec_*** used"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            'POST http://u:PW@127.0.0.1:8080/hooks/TOK?token=Q "HTTP/1.1 500"',
            'POST http://127.0.0.1:8080/… "HTTP/1.1 500"',
        ),
        ("to wss://h.example/socket#TOK now", "to wss://h.example/… now"),
        ("bad port http://u:PW@h:TOK/x", "bad port (hidden)"),
        (
            "db postgresql://app:PW@db:5432/finsent?password=PW",
            "db postgresql://app:***@db:5432/finsent?…",
        ),
        ("no scheme app:PW@db:5432/finsent", "no scheme app:***@db:5432/finsent"),
        ("mail a@b.example at 12:30, {'k': 'v@w'}", "mail a@b.example at 12:30, {'k': 'v@w'}"),
        ("kafka:sentiment.alerts", "kafka:sentiment.alerts"),
    ],
)
def test_redact_masks_every_url_and_bare_password(raw: str, shown: str) -> None:
    assert redact_secrets(raw) == shown
    assert redact_secrets(shown) == shown  # masking twice changes nothing


def test_mask_endpoint_hides_what_it_cannot_parse() -> None:
    assert mask_endpoint("http://u:PW@h:TOK/x") == "(hidden)"
    assert mask_endpoint("http://[::1/x") == "(hidden)"
    assert mask_endpoint("postgres:PW@db/x") == "(hidden)"  # only `kafka:` names a topic
