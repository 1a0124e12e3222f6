"""Pipeline: items stored per minute, rejected records by reason, the model, the last item."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import charts, controls, data, transforms


def main() -> None:
    st.title("Pipeline")

    @controls.live
    def live() -> None:
        status, models = data.pipeline()
        stored, rejected, last_item, lag = st.columns(4)
        stored.metric("Items stored", f"{status.documents:,}")
        rejected.metric("Rejected records", f"{status.rejected:,}")
        last_item.metric("Last item stored", _ago(status.last_ingested_at))
        lag.metric("Newest event time", _ago(status.last_published_at))
        st.caption(_history(data.history_start()))
        window = controls.time_range()
        controls.caption(window)
        bucket = transforms.bucket_for(controls.span())
        st.subheader(f"Items stored per {transforms.bucket_label(bucket)} (processing time)")
        if status.last_ingested_at is not None:
            until = max(window.until, status.last_ingested_at.replace(second=0) + bucket)
            rate = data.ingest_rate(until - controls.span(), until, bucket)
            chart = charts.time_bars(rate, time="minute", count="items", bucket=bucket)
            st.altair_chart(chart, width="stretch")
        st.subheader("Rejected records by reason")
        reasons = data.rejected(window.since, window.until)
        if reasons.empty:
            st.caption("None in this range.")
        else:
            chart = charts.count_bars(reasons, category="reason", count="records")
            st.altair_chart(chart, width="stretch")
        st.subheader("Models")
        st.dataframe(
            [{"model": m.model, "items": m.documents, "last used": m.last_seen} for m in models],
            hide_index=True,
            width="stretch",
        )

    live()


def _history(start: datetime | None) -> str:
    if start is None:
        return "No history kept yet."
    return f"History kept since {start.astimezone(UTC):%Y-%m-%d %H:%M} UTC (event time)."


def _ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    seconds = max(0, int((datetime.now(UTC) - when).total_seconds()))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{when:%Y-%m-%d %H:%M} UTC"


main()
