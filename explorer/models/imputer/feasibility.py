"""CPU cost of conditional-diffusion imputation at the published METR-LA size (the check behind
docs/imputation.md's choice of model): ``python -m explorer.models.imputer.feasibility [--threads 1]``.

Times PyPOTS' CSDI (4 layers, 64 channels, 8 heads, 50 denoising steps; untrained weights cost the same)
drawing one sample for 16 windows of 24 steps × 207 sensors, and scales that to the Data health page's week and
to the evaluation's stride-1 test windows with 50 samples. Needs the ``eval`` extra (pypots).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings


def csdi_sample_seconds(n_windows: int = 16, sensors: int = 207, steps: int = 24) -> float:
    """Wall seconds for one CSDI sample of ``n_windows`` random windows (a quarter of values missing)."""
    import numpy as np

    warnings.filterwarnings("ignore")
    with contextlib.redirect_stdout(sys.stderr):  # pypots prints a banner on import
        from pypots.imputation import CSDI
    model = CSDI(n_steps=steps, n_features=sensors, n_layers=4, n_heads=8, n_channels=64, d_time_embedding=128,
                 d_feature_embedding=16, d_diffusion_embedding=128, n_diffusion_steps=50, epochs=1,
                 batch_size=n_windows, device="cpu", verbose=False, model_saving_strategy=None)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_windows, steps, sensors)).astype(np.float32)
    x[rng.random(x.shape) < 0.25] = np.nan
    t0 = time.perf_counter()
    model.predict({"X": x}, n_sampling_times=1)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    dt = csdi_sample_seconds()
    per_window = dt / 16
    print(f"one sample of 16 windows: {dt:.1f} s ({args.threads} thread(s))")
    print(f"Data health week (84 windows), 50 samples: {per_window * 84 * 50 / 60:.0f} min")
    print(f"Los Angeles test part (6832 stride-1 windows), 50 samples: {per_window * 6832 * 50 / 3600:.0f} h")


if __name__ == "__main__":
    main()
