"""The only streamlit code outside pages/: caching, shared widgets, theme, error display."""
