"""A second cold-start reference: one small deck.gl map (ten points) and nothing else, so the figures show
what any map page costs in this browser (Streamlit's deck.gl bundle, a WebGL context in SwiftShader)."""

import pydeck as pdk
import streamlit as st

points = [{"p": [-118.3 + 0.01 * i, 34.1]} for i in range(10)]
layer = pdk.Layer("ScatterplotLayer", data=points, get_position="p", get_radius=300, get_fill_color=[11, 92, 173])
st.pydeck_chart(pdk.Deck(layers=[layer], initial_view_state=pdk.ViewState(latitude=34.1, longitude=-118.25, zoom=10),
                         map_style=None), key="map")
st.markdown("**map ready**")
