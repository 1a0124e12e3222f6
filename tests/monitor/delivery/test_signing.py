"""Key rotation: several secrets, one `v1,` signature each; any one key verifies. No network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from monitor.alerting.settings import AlertSettings
from monitor.delivery.payload import alertmanager_body, render, sample_alert
from monitor.delivery.signing import signed_headers
from monitor.exceptions import WebhookConfigInvalid

NEW = "whsec_16en4jZ0bZt2mFG4LXpC1eX4uyv2NQ4o"
OLD = "whsec_XjQA78vIVotObkjOpxT5mLazklq84cX4"
OTHER = "whsec_s2h1ScbX880PSKk0QDvGu2ufrNs6oxxZ"


def _body(now: datetime) -> str:
    return render(alertmanager_body(sample_alert(now), external_url="http://x"))


def test_each_secret_adds_its_signature_in_order_and_either_key_verifies() -> None:
    now = datetime.now(UTC)
    body = _body(now)
    headers = signed_headers((NEW, OLD), "msg_1", body, now)
    signatures = headers["webhook-signature"].split(" ")
    assert signatures == [
        signed_headers((NEW,), "msg_1", body, now)["webhook-signature"],
        signed_headers((OLD,), "msg_1", body, now)["webhook-signature"],
    ]
    assert signatures[0] != signatures[1] and all(s.startswith("v1,") for s in signatures)
    for key in (NEW, OLD):
        assert Webhook(key).verify(body, headers)["version"] == "4"
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(body, headers)
    with pytest.raises(ValueError, match="at least one"):
        signed_headers((), "msg_1", body, now)


@pytest.mark.parametrize(
    "raw", [f"{NEW},{OLD}", f" {NEW} , {OLD} ", f"{NEW} {OLD}", f"{NEW}\n{OLD}"]
)
def test_the_secret_setting_is_a_list_newest_first(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINSENT_WEBHOOK_SECRET", raw)
    settings = AlertSettings()
    assert settings.signing_secrets() == (NEW, OLD)
    assert NEW not in repr(settings) and OLD not in repr(settings)


def test_one_secret_is_still_one_secret() -> None:
    assert AlertSettings(webhook_secret=NEW).signing_secrets() == (NEW,)
    assert AlertSettings(webhook_secret="").webhook_secret == ()
    with pytest.raises(WebhookConfigInvalid, match="FINSENT_WEBHOOK_SECRET: required"):
        AlertSettings(webhook_secret=" , ").signing_secrets()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (f"{NEW},whsec_!!notbase64PLANTED", "secret 2 of 2: the part after whsec_ is not base64"),
        (f"{NEW} {OLD} PLANTEDplain", "secret 3 of 3: expected the form whsec_<base64 key>"),
        ("whsec_UExBTlRFRA==", "the key is shorter than 16 bytes"),
    ],
)
def test_a_bad_secret_is_named_by_position_never_shown(raw: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AlertSettings(webhook_secret=raw)
    (problem,) = caught.value.errors()
    assert message in problem["msg"]
    shown = f"{problem['msg']} {caught.value}"  # the one-line form and the traceback form
    assert "PLANTED" not in shown and "UExBTlRFRA" not in shown and NEW not in shown
