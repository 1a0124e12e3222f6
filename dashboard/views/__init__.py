"""The dashboard's pages: thin Streamlit scripts over `dashboard.data` and `dashboard.charts`."""
