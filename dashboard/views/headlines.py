"""Headlines: a searchable, filterable table of scored items, newest first, paged by keyset."""

from __future__ import annotations

import streamlit as st

from dashboard import controls, data, transforms
from monitor.storage.headline_queries import HeadlineCursor, HeadlineFilter

# Where each page before the shown one ended (empty: the newest page). Keyset paging keeps a page
# put while new items arrive above it, and never counts or skips the rows before it.
CURSORS_KEY = "headline_cursors"
_CRITERIA_KEY = "headline_criteria"
SEARCH_HELP = (
    'Words match any form (cuts → cut); "rate cut" is a phrase; OR, -word and word* (prefix) '
    "work; AAPL or $AAPL also finds items tagged AAPL."
)


def _older(cursor: HeadlineCursor | None) -> None:
    if cursor is not None:
        st.session_state[CURSORS_KEY] = (*st.session_state[CURSORS_KEY], cursor)


def _newer() -> None:
    st.session_state[CURSORS_KEY] = st.session_state[CURSORS_KEY][:-1]


def main() -> None:
    st.title("Headlines")
    text, ticker = st.columns([3, 1])
    query = text.text_input("Search headlines", placeholder='rate cut, "guidance", $AAPL')
    text.caption(SEARCH_HELP)
    symbol = ticker.text_input("Ticker", placeholder="AAPL", max_chars=16)
    topics_col, sentiments_col = st.columns([3, 2])
    topics = topics_col.multiselect("Topics", transforms.TOPICS)
    sentiments = sentiments_col.multiselect("Sentiment", transforms.SENTIMENTS)
    page_size = data.settings().dashboard_page_size
    criteria = (query.strip(), symbol.strip(), tuple(topics), tuple(sentiments), controls.span())
    if st.session_state.get(_CRITERIA_KEY) != criteria:  # new criteria start at the newest page
        st.session_state[_CRITERIA_KEY] = criteria
        st.session_state[CURSORS_KEY] = ()

    @controls.live
    def live() -> None:
        flt = HeadlineFilter(
            time_range=controls.time_range(),
            topics=tuple(topics),
            sentiments=tuple(sentiments),
            ticker=symbol.strip().lstrip("$"),
            text=query.strip(),
        )
        cursors: tuple[HeadlineCursor, ...] = st.session_state[CURSORS_KEY]
        table, next_page = data.headline_page(flt, page_size, cursors[-1] if cursors else None)
        controls.caption(flt.time_range)
        st.caption(f"{transforms.match_label(data.count_headlines(flt))} · page {len(cursors) + 1}")
        st.dataframe(table, hide_index=True, width="stretch")
        newer, older = st.columns(2)
        newer.button("← Newer", key="newer", disabled=not cursors, on_click=_newer)
        older.button(
            "Older →", key="older", disabled=next_page is None, on_click=_older, args=(next_page,)
        )

    live()


main()
