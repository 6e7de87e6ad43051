"""Urban digital-twin what-if explorer: the library behind the Streamlit app and the CLI."""

__version__ = "0.1.0"
