"""Headlines: a searchable, filterable table of scored items, newest first, paged."""

from __future__ import annotations

import streamlit as st

from dashboard import controls, data, transforms
from monitor.storage.queries import HeadlineFilter


def main() -> None:
    st.title("Headlines")
    text, ticker = st.columns([3, 1])
    query = text.text_input("Search headlines", placeholder="words in the headline")
    symbol = ticker.text_input("Ticker", placeholder="AAPL", max_chars=16)
    topics_col, sentiments_col = st.columns([3, 2])
    topics = topics_col.multiselect("Topics", transforms.TOPICS)
    sentiments = sentiments_col.multiselect("Sentiment", transforms.SENTIMENTS)
    page_size = data.settings().dashboard_page_size

    @controls.live
    def live() -> None:
        flt = HeadlineFilter(
            time_range=controls.time_range(),
            topics=tuple(topics),
            sentiments=tuple(sentiments),
            ticker=symbol.strip().lstrip("$"),
            text=query.strip(),
        )
        total = data.count_headlines(flt)
        pages = transforms.page_count(total, page_size)
        page = st.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="page")
        controls.caption(flt.time_range)
        st.caption(f"{total:,} items match · page {page} of {pages}")
        table = data.headlines(flt, limit=page_size, offset=(int(page) - 1) * page_size)
        st.dataframe(table, hide_index=True, width="stretch")

    live()


main()
