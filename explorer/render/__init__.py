"""Pure builders of pydeck decks, plotly figures and legends. No streamlit here."""
