"""Where a What-if scenario change's server time goes: cProfile inside the real server's script runs.

    .venv/bin/python bench/profile_reruns.py [--changes 30] [--top 30] [--query city=los-angeles] [--out FILE]

Starts ``streamlit run app.py`` in a child process whose ``ScriptRunner._run_script`` (every run: the page, a
fragment, the details fragment the after-map trigger asks for) is wrapped in a ``cProfile.Profile``; one websocket
session (``explorer/bench/sessions.py``, after-map trigger included, as the browser) opens What if, warms up with
two changes, then makes ``--changes`` slider changes back to back. The profiles of the measured runs are summed
and printed (cumulative and own time, top ``--top``), with the CPU time of the runs. No py-spy needed; cProfile
slows Python code by ~1.5-2x, so read the shares, not the milliseconds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def serve(port: int, out: Path) -> None:
    """The child: a Streamlit server whose script runs are profiled once ``out``.on exists; stats to ``out``."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.web import cli

    lock = threading.Lock()
    total: pstats.Stats | None = None  # the sum of the profiled runs
    cpu = [0.0, 0]
    original = script_runner.ScriptRunner._run_script

    def profiled(self, rerun_data):  # type: ignore[no-untyped-def]
        nonlocal total
        if not out.with_suffix(".on").exists():
            return original(self, rerun_data)
        prof = cProfile.Profile()
        t = time.thread_time()
        prof.enable()
        try:
            return original(self, rerun_data)
        finally:
            prof.disable()
            with lock:
                cpu[0] += time.thread_time() - t
                cpu[1] += 1
                total = pstats.Stats(prof) if total is None else total.add(prof)

    script_runner.ScriptRunner._run_script = profiled

    def dump_when_asked() -> None:  # (Streamlit installs its own SIGTERM handler: a file asks instead)
        while not out.with_suffix(".stop").exists():
            time.sleep(0.1)
        with lock:
            if total is not None:
                total.dump_stats(str(out))
            out.with_suffix(".cpu").write_text(f"{cpu[0]} {cpu[1]}")

    threading.Thread(target=dump_when_asked, daemon=True).start()
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1", "--server.port",
                str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    cli.main()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=30)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--query", default="city=los-angeles")
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "profile" / "reruns.pstats")
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve, args.out)
        return
    from explorer.bench.common import free_port, wait_healthy
    from explorer.bench.sessions import drive_sessions

    args.out.parent.mkdir(parents=True, exist_ok=True)
    on, stop, cpu_file = (args.out.with_suffix(x) for x in (".on", ".stop", ".cpu"))
    for f in (on, stop, cpu_file):
        f.unlink(missing_ok=True)
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--out", str(args.out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, 180)
        drive_sessions(url, 1, n_actions=2, duration_s=None, think_s=(0.05, 0.05), query=args.query, ramp_s=0)
        on.touch()
        res = drive_sessions(url, 1, n_actions=args.changes, duration_s=None, think_s=(0.05, 0.05),
                             query=args.query, warmup=False, ramp_s=0)
        on.unlink()
        stop.touch()
        end = time.monotonic() + 60
        while not cpu_file.exists() and time.monotonic() < end:
            time.sleep(0.1)
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        on.unlink(missing_ok=True)
        stop.unlink(missing_ok=True)
    cpu_s, runs = cpu_file.read_text().split()
    print(f"{res['actions']} changes, {int(runs)} profiled runs (first load + map + details per change), "
          f"{res['errors']} errors; script CPU {1000 * float(cpu_s) / max(1, res['actions']):.0f} ms per change "
          f"(profiled), change p50 {1000 * res['change_p50_s']:.0f} ms")
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(str(args.out), stream=buf).sort_stats(key).print_stats(args.top)
        text = buf.getvalue()
        print(text[text.find("   ncalls"):].replace(str(ROOT) + "/", "").replace(
            str(Path(sys.executable).parents[1]) + "/lib/python3.11/site-packages/", ""))


if __name__ == "__main__":
    main()
