"""The only streamlit code outside app_pages/: caching, shared widgets, theme, error display."""
