"""Overview: the overall sentiment index and volume, firing alerts, the latest headlines."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, controls, data, transforms
from monitor.storage.headline_queries import HeadlineFilter


def main() -> None:
    st.title("Overview")

    @controls.live
    def live() -> None:
        window = controls.time_range()
        frame = data.series(
            "all", window.since, window.until, transforms.bucket_for(controls.span())
        )
        summary = transforms.summarize(frame)
        firing = data.alerts(None, None, True)
        items, index, share, alerts = st.columns(4)
        items.metric("Items", f"{summary.volume:,}")
        index.metric("Sentiment index", controls.fmt(summary.index), help="Mean of p_pos − p_neg")
        share.metric("Negative share", controls.fmt(summary.negative_share, ".1%"))
        alerts.metric("Firing alerts", len(firing))
        controls.caption(window)
        if frame.empty:
            st.info("No scored items in this range yet: start the worker and a feed.")
        else:
            st.altair_chart(charts.index_line(frame), width="stretch")
            st.altair_chart(charts.volume_bars(transforms.volume_long(frame)), width="stretch")
        st.subheader("Firing alerts")
        if firing:
            table = transforms.alerts_frame(firing, window.until).drop(columns=["ended"])
            st.dataframe(table, hide_index=True, width="stretch")
        else:
            st.caption("None firing.")
        st.subheader("Latest headlines")
        latest = data.headlines(HeadlineFilter(time_range=window), limit=15)
        st.dataframe(latest, hide_index=True, width="stretch")

    live()


main()
