"""Alerts: the timeline of episodes; one alert's series against its baseline, its headlines,
and the state of each webhook delivery."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import charts, controls, data, transforms
from monitor.storage.records import AlertRecord


def main() -> None:
    st.title("Alerts")

    @controls.live
    def live() -> None:
        window = controls.time_range()
        rows = data.alerts(window.since, window.until, False)
        linked = controls.linked_alert()
        if linked is not None and all(row.id != linked for row in rows):
            rows = [*data.alert(linked), *rows]  # a linked alert outside the range
        controls.caption(window)
        if not rows:
            st.info("No alert episodes in this range.")
            return
        st.altair_chart(
            charts.alert_timeline(transforms.alerts_frame(rows, window.until)),
            width="stretch",
        )
        by_id = {row.id: row for row in rows}
        ids = list(by_id)
        chosen = st.selectbox(
            "Alert",
            ids,
            index=ids.index(linked) if linked in by_id else 0,
            format_func=lambda i: _label(by_id[i]),
            key="alert",
        )
        if chosen is not None:
            _detail(by_id[chosen])

    live()


def _label(row: AlertRecord) -> str:
    return f"#{row.id} {row.status} · {transforms.subject(row)} · {row.started_at:%m-%d %H:%M}"


def _detail(row: AlertRecord) -> None:
    if row.explanation:
        st.markdown(f"**Why it fired:** {row.explanation}")
    observed, baseline, deviation, volume = st.columns(4)
    if row.expected is None:  # recorded before alerts were judged on counts
        observed.metric(row.metric.replace("_", " "), f"{row.observed:.3f}")
        baseline.metric("baseline", f"{row.baseline:.3f}")
        deviation.metric("deviation", f"{row.deviation:.2f}")
    else:
        observed.metric("observed", f"{row.observed:.3g}")
        baseline.metric("expected", f"{row.expected:.3g}")
        deviation.metric("z", f"{row.deviation:.1f}")
    volume.metric("items in window", row.volume)
    st.caption(
        f"rule {row.rule} · window {row.window_start:%H:%M}–{row.window_end:%H:%M} UTC"
        + (f" · resolved {row.resolved_at:%m-%d %H:%M}" if row.resolved_at else " · firing")
    )
    since = row.window_start - timedelta(hours=1)
    until = (row.resolved_at or row.window_end) + timedelta(minutes=15)
    bucket = transforms.bucket_for(until - since)
    frame = data.series(row.dimension, since, until, bucket, (row.key,))
    if not frame.empty:
        st.altair_chart(charts.observed_vs_baseline(frame, row.metric, row.baseline))
    st.subheader("Headlines that drove it")
    st.dataframe(data.headlines_by_id(row.document_ids), hide_index=True, width="stretch")
    st.subheader("Webhook deliveries")
    st.dataframe(data.deliveries(row.id), hide_index=True, width="stretch")


main()
