"""The sampled residual: its likelihood is the exact Gaussian one, and its samples follow that Gaussian."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.models.imputer.infer import draw_residuals
from explorer.models.imputer.model import ImputerConfig, STImputer


def _model(n: int = 6, residual: str = "graph-ar") -> STImputer:
    torch.manual_seed(0)
    model = STImputer(ImputerConfig(n_nodes=n, slots_per_day=24, hidden=8, n_neighbours=3, residual=residual))
    model.nb_idx.copy_(torch.tensor([[(i + j) % n for j in (1, 2, 3)] for i in range(n)]))
    with torch.no_grad():
        model.res_logits.normal_()
    return model


def _params(b: int, t: int, n: int, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"loc": torch.zeros(b, t, n), "psi": 0.2 + torch.rand(b, t, n, generator=g),
            "c": torch.rand(b, t, n, generator=g), "a": torch.rand(b, t, n, generator=g) * 1.6 - 0.8}


def test_residual_nll_is_the_exact_gaussian_likelihood() -> None:
    """Against torch's MultivariateNormal on each scored step's targets, one (window, step) at a time."""
    b, t, n = 3, 5, 6
    model = _model(n)
    out = _params(b, t, n)
    g = torch.Generator().manual_seed(2)
    target = torch.rand(b, t, n, generator=g) < 0.5
    target[0, 2] = False  # a step with nothing to score in one window
    r = torch.randn(b, t, n, generator=g) * target
    steps = torch.tensor([1, 2, 4])
    got = model.residual_nll(out, r, target, steps)
    w = model.spread().detach()
    s = w @ w.T
    total, count = 0.0, 0
    for i in range(b):
        for step in steps.tolist():
            idx = torch.nonzero(target[i, step]).flatten()
            if not len(idx):
                continue
            mu = out["a"][i, step] * r[i, step - 1]
            cov = torch.diag(out["psi"][i, step] ** 2) + torch.outer(out["c"][i, step], out["c"][i, step]) * s
            dist = torch.distributions.MultivariateNormal(mu[idx], cov[idx][:, idx])
            total -= float(dist.log_prob(r[i, step, idx]))
            count += len(idx)
    assert float(got.detach()) == pytest.approx(total / count, rel=1e-5)


def test_ablations_drop_their_terms() -> None:
    n = 6
    x = torch.zeros(2, 24, n)
    m = torch.ones(2, 24, n)
    slot = torch.arange(24).repeat(2, 1)
    day = torch.zeros(2, 24, dtype=torch.long)
    ar = _model(n, "ar")(x, m, slot, day)
    assert (ar["c"] == 0).all() and (ar["a"] != 0).any()
    ind = _model(n, "independent")(x, m, slot, day)
    assert (ind["c"] == 0).all() and (ind["a"] == 0).all() and (ind["psi"] > 0).all()
    with pytest.raises(ValueError, match="unknown residual structure"):
        ImputerConfig(n_nodes=4, slots_per_day=24, residual="diffusion")


def test_sampled_residuals_follow_the_model_covariance() -> None:
    """Constant parameters: the stationary lag-1 correlation is a, the lag-0 covariance across sensors
    (psi^2 I + c^2 W W^T) / (1 - a^2); a measured value resets the recursion to 0."""
    n, t = 6, 400
    model = _model(n)
    a, psi, c = 0.7, 0.3, 0.5
    out = {"loc": np.zeros((t, n), np.float32), "psi": np.full((t, n), psi, np.float32),
           "c": np.full((t, n), c, np.float32), "a": np.full((t, n), a, np.float32)}
    filled = np.ones((t, n), bool)
    filled[200] = False  # one step measured everywhere
    r = draw_residuals(model, out, filled, 400, seed=0)
    assert (r[:, 200] == 0).all()
    part = r[:, 50:200].reshape(-1, n)  # stationary by step 50
    w = model.spread().detach().numpy()
    expected = (psi**2 * np.eye(n) + c**2 * w @ w.T) / (1 - a**2)
    np.testing.assert_allclose(np.cov(part.T), expected, atol=0.05)
    lag = np.mean([np.corrcoef(r[:, 100:199, j].ravel(), r[:, 101:200, j].ravel())[0, 1] for j in range(n)])
    assert lag == pytest.approx(a, abs=0.03)
    again = draw_residuals(model, out, filled, 400, seed=0)
    np.testing.assert_array_equal(r, again)
