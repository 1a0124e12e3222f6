"""Topics: all 20 side by side as a heat map over time, and lines for the ones selected."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, controls, data, transforms


def main() -> None:
    st.title("Topics")
    chosen = st.multiselect(
        "Compare topics",
        transforms.TOPICS,
        default=["Earnings", "Macro"],
        help="Lines below the heat map.",
    )

    @controls.live
    def live() -> None:
        window = controls.time_range()
        bucket = transforms.bucket_for(controls.span(), max_points=60)
        frame = data.series("topic", window.since, window.until, bucket)
        controls.caption(window)
        if frame.empty:
            st.info("No scored items in this range yet.")
            return
        st.altair_chart(charts.topic_heatmap(frame, bucket), width="stretch")
        if chosen:
            fine = transforms.bucket_for(controls.span())
            lines = data.series("topic", window.since, window.until, fine, tuple(chosen))
            st.subheader("Selected topics")
            st.altair_chart(charts.index_line(lines, by_key=True), width="stretch")
        st.subheader("Volume by topic")
        volume = data.top_keys("topic", window.since, window.until, limit=20)
        st.altair_chart(charts.count_bars(volume, category="key", count="items"))

    live()


main()
