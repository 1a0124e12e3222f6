"""Tickers: find a ticker, see its sentiment series, volume and headlines."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, controls, data, transforms
from monitor.storage.headline_queries import HeadlineFilter


def main() -> None:
    st.title("Tickers")
    search = st.text_input("Find a ticker", placeholder="e.g. AAPL", max_chars=16)

    @controls.live
    def live() -> None:
        window = controls.time_range()
        found = data.top_keys("ticker", window.since, window.until, search.strip().lstrip("$"))
        controls.caption(window)
        if found.empty:
            st.info("No ticker matches in this range.")
            return
        ticker = st.selectbox(
            "Ticker",
            found["key"].tolist(),
            format_func=lambda key: f"${key} ({found.set_index('key').at[key, 'items']} items)",
            key="ticker",
        )
        if ticker is None:
            return
        bucket = transforms.bucket_for(controls.span())
        frame = data.series("ticker", window.since, window.until, bucket, (ticker,))
        summary = transforms.summarize(frame)
        items, index, share = st.columns(3)
        items.metric("Items", f"{summary.volume:,}")
        index.metric("Sentiment index", controls.fmt(summary.index))
        share.metric("Negative share", controls.fmt(summary.negative_share, ".1%"))
        st.altair_chart(charts.index_line(frame), width="stretch")
        st.altair_chart(charts.volume_bars(transforms.volume_long(frame)), width="stretch")
        st.subheader(f"Headlines mentioning ${ticker}")
        flt = HeadlineFilter(time_range=window, ticker=ticker)
        st.dataframe(data.headlines(flt, limit=50), hide_index=True, width="stretch")

    live()


main()
