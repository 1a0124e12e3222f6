"""The Streamlit entry script: `finsent dashboard` (or `streamlit run dashboard/app.py`).

It draws what every page shares (title, navigation, the time range) and runs the chosen page.
"""

from __future__ import annotations

import streamlit as st

from dashboard import controls
from dashboard.controls import ALERT_PARAM

# Paths are relative to this file; each view is a thin page script.
PAGES = (
    ("views/overview.py", "Overview", ":material/monitoring:"),
    ("views/topics.py", "Topics", ":material/category:"),
    ("views/tickers.py", "Tickers", ":material/show_chart:"),
    ("views/alerts.py", "Alerts", ":material/notifications_active:"),
    ("views/pipeline.py", "Pipeline", ":material/conveyor_belt:"),
    ("views/headlines.py", "Headlines", ":material/newspaper:"),
)


def main() -> None:
    st.set_page_config(page_title="finsent", page_icon=":material/monitoring:", layout="wide")
    pages = [
        st.Page(path, title=title, icon=icon, default=(i == 0))
        for i, (path, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    alert = st.query_params.get(ALERT_PARAM)
    if alert and page.url_path != "alerts":
        # Webhook bodies link to `/?alert=ID`: open that alert.
        st.switch_page(pages[3], query_params={ALERT_PARAM: alert})
    st.sidebar.caption("finsent · live financial-news sentiment")
    controls.range_picker()
    page.run()


main()
