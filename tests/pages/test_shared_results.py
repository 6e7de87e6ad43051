"""Generated results are shared by every session: computed once per scenario, handed out read-only."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import explorer.ui.models as models
from explorer.presets import presets_for


def test_sessions_asking_at_once_compute_a_scenario_once(monkeypatch):
    calls = []
    real = models.generate

    def counted(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "generate", counted)
    bundle = models.cached_generator("los-angeles")
    scenario = presets_for("los-angeles")[0].scenario.to_json()
    seed = 987_654  # a key no other test uses
    got: list = [None] * 6
    go = threading.Barrier(len(got))

    def session(i: int) -> None:
        go.wait()
        got[i] = models.cached_result("los-angeles", scenario, 16, seed, models.model_id(bundle))

    threads = [threading.Thread(target=session, args=(i,), name=f"s{i}") for i in range(len(got))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(r is got[0] for r in got)
    assert got[0].baseline.shape[0] == 16


def test_a_shared_result_cannot_be_changed_in_place():
    bundle = models.cached_generator("los-angeles")
    res = models.cached_result("los-angeles", presets_for("los-angeles")[0].scenario.to_json(), 8, 3,
                               models.model_id(bundle))
    with pytest.raises(ValueError, match="read-only"):
        res.baseline[0, 0, 0] = 1.0
    assert np.isfinite(res.quantiles("difference")).all()
