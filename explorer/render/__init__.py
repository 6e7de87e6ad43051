"""Pure builders of the map payloads, plotly figures and legends. No streamlit here."""
