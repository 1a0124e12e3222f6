"""Webhook bodies in the Prometheus Alertmanager webhook format (version 4).

The body carries one alert; finsent's details (observed value, baseline, deviation, volume, window,
the driving headlines and their document ids) are string annotations, as Alertmanager does it, so
any Alertmanager receiver understands the message and a person sees why it fired.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from monitor.storage.records import AlertRecord, Headline

# Alertmanager's "zero" endsAt for an alert that is still firing.
NOT_ENDED = "0001-01-01T00:00:00Z"
RECEIVER = "finsent"
METRIC_WORDS = {
    "negative_share": "share of negative news",
    "negative_count": "count of negative news",
    "mean_score": "mean sentiment score",
}


def new_webhook_id() -> str:
    """A unique message id; it stays the same on every retry of one delivery."""
    return f"msg_{uuid.uuid4().hex}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def labels_of(alert: AlertRecord) -> dict[str, str]:
    labels = {
        "alertname": alert.rule,
        "dimension": alert.dimension,
        "metric": alert.metric,
        "service": "finsent",
        "severity": "warning",
    }
    if alert.key:  # Alertmanager treats an empty label as absent
        labels["key"] = alert.key
    return labels


def fingerprint(labels: dict[str, str]) -> str:
    """Stable id of the label set (the same rule and key give the same fingerprint)."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def annotations_of(alert: AlertRecord) -> dict[str, str]:
    subject = alert.dimension if not alert.key else f"{alert.dimension} {alert.key}"
    window = f"{iso(alert.window_start)} to {iso(alert.window_end)}"
    annotations = {
        "summary": f"Negative news spike on {subject}: {reason(alert)}",
        "description": f"{reason(alert)}; window {window}.",
        "alert_id": str(alert.id),
        "observed": f"{alert.observed:.6g}",
        "baseline": f"{alert.baseline:.6g}",
        "deviation": f"{alert.deviation:.3f}",
        "volume": str(alert.volume),
        "window_start": iso(alert.window_start),
        "window_end": iso(alert.window_end),
        "headlines": "\n".join(f"{h.headline} ({h.source})" for h in alert.headlines),
        "document_ids": ",".join(h.id for h in alert.headlines),
    }
    if alert.expected is not None:
        annotations["expected"] = f"{alert.expected:.6g}"
    return annotations


def reason(alert: AlertRecord) -> str:
    """Why it fired, in words; alerts from before the stored explanation get the old wording."""
    if alert.explanation:
        return alert.explanation
    what = METRIC_WORDS.get(alert.metric, alert.metric)
    return (
        f"{what} {alert.observed:.3g} against a baseline of {alert.baseline:.3g} "
        f"({alert.deviation:.1f} robust standard deviations, {alert.volume} documents)"
    )


def alertmanager_body(alert: AlertRecord, *, external_url: str) -> dict[str, Any]:
    """The Alertmanager v4 webhook body for one alert event (firing or resolved)."""
    labels = labels_of(alert)
    annotations = annotations_of(alert)
    ended = alert.status == "resolved" and alert.resolved_at is not None
    group = {"alertname": alert.rule}
    return {
        "version": "4",
        "groupKey": "{}:" + "{" + f'alertname="{alert.rule}"' + "}",
        "truncatedAlerts": 0,
        "status": alert.status,
        "receiver": RECEIVER,
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": external_url,
        "alerts": [
            {
                "status": alert.status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": iso(alert.started_at),
                "endsAt": iso(alert.resolved_at) if ended and alert.resolved_at else NOT_ENDED,
                "generatorURL": f"{external_url.rstrip('/')}/?alert={alert.id}",
                "fingerprint": fingerprint(labels),
            }
        ],
    }


def render(body: dict[str, Any]) -> str:
    """The exact text that is signed and sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def sample_alert(now: datetime) -> AlertRecord:
    """A clearly labelled sample alert for `finsent alerts test`."""
    return AlertRecord(
        id=0,
        rule="finsent-test",
        dimension="topic",
        key="Earnings",
        status="firing",
        metric="negative_share",
        started_at=now,
        resolved_at=None,
        window_start=now,
        window_end=now,
        observed=86,
        baseline=0.18,
        deviation=9.5,
        volume=120,
        expected=21.6,
        explanation="86 of 120 items negative in the last 5 min; 21.6 expected from the last "
        "8 h (rate 0.18); z 9.5",
        headlines=(
            Headline(
                id="test",
                published_at=now,
                source="finsent",
                headline="This is a test event from finsent",
                tickers=(),
                topic="Earnings",
                sentiment="negative",
                score=-1.0,
                p_negative=1.0,
                url=None,
            ),
        ),
    )
