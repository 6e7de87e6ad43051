"""Drive many Streamlit sessions at once over the real websocket protocol (no browser): a script around
:mod:`explorer.bench.sessions` (the library code lives in the package).

    .venv/bin/python bench/sessions.py http://127.0.0.1:8501 --sessions 30 --duration 40 [--pid SERVER_PID]
"""

from __future__ import annotations

from explorer.bench.sessions import main

if __name__ == "__main__":
    main()
