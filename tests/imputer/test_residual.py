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


def test_gsm_likelihood_is_the_exact_scale_mixture() -> None:
    """graph-ar-gsm: per scored step, log sum_k pi_k N(d; 0, h_k^2 psi^2 I + g_k^2 C W W^T C) (h = 1 but for
    -joint), checked against torch's MultivariateNormal; -window sums each window's steps inside the log-sum-exp."""
    b, t, n = 3, 5, 6
    out = _params(b, t, n)
    g = torch.Generator().manual_seed(2)
    target = torch.rand(b, t, n, generator=g) < 0.5
    target[0, 2] = False
    r = torch.randn(b, t, n, generator=g) * 2 * target
    steps = torch.tensor([1, 2, 4])
    for residual in ("graph-ar-gsm", "graph-ar-gsm-window", "graph-ar-gsm-joint"):
        model = _model(n, residual)
        with torch.no_grad():
            model.res_mix_logits.normal_()
            if residual.endswith("joint"):
                model.res_mix_own.normal_()
        got = float(model.residual_nll(out, r, target, steps).detach())
        logp, scales, own = (v.detach() for v in model.mix())
        assert float((logp.exp() * scales**2).sum()) == pytest.approx(1.0, rel=1e-6)
        assert float((logp.exp() * own**2).sum()) == pytest.approx(1.0, rel=1e-6)
        assert residual.endswith("joint") != torch.allclose(own, torch.ones_like(own))
        w = model.spread().detach()
        total, count = 0.0, 0
        for i in range(b):
            ll = logp.clone()
            for step in steps.tolist():
                idx = torch.nonzero(target[i, step]).flatten()
                if not len(idx):
                    continue
                mu = out["a"][i, step] * r[i, step - 1]
                cc = torch.outer(out["c"][i, step], out["c"][i, step]) * (w @ w.T)
                per = torch.stack([torch.distributions.MultivariateNormal(
                    mu[idx], (torch.diag(hk**2 * out["psi"][i, step] ** 2) + gk**2 * cc)[idx][:, idx]
                ).log_prob(r[i, step, idx]) for gk, hk in zip(scales, own, strict=True)])
                if residual != "graph-ar-gsm-window":
                    total -= float(torch.logsumexp(logp + per, 0))
                else:
                    ll = ll + per
                count += len(idx)
            if residual == "graph-ar-gsm-window":
                total -= float(torch.logsumexp(ll, 0))
        assert got == pytest.approx(total / count, rel=1e-5), residual


def test_gsm_with_one_scale_is_the_gaussian_graph_ar() -> None:
    """A mixture of one scale point (or all weight on one point) is exactly the Gaussian graph-ar likelihood."""
    b, t, n = 2, 6, 6
    out = _params(b, t, n)
    g = torch.Generator().manual_seed(3)
    target = torch.rand(b, t, n, generator=g) < 0.6
    r = torch.randn(b, t, n, generator=g) * target
    steps = torch.tensor([1, 3, 5])
    base = _model(n, "graph-ar")
    want = float(base.residual_nll(out, r, target, steps).detach())
    for residual in ("graph-ar-gsm", "graph-ar-gsm-window", "graph-ar-gsm-joint"):
        one = STImputer(ImputerConfig(n_nodes=n, slots_per_day=24, hidden=8, n_neighbours=3, residual=residual,
                                      gsm_scales=1))
        one.load_state_dict(base.state_dict(), strict=False)
        assert float(one.residual_nll(out, r, target, steps).detach()) == pytest.approx(want, rel=1e-6)
        peaked = STImputer(ImputerConfig(n_nodes=n, slots_per_day=24, hidden=8, n_neighbours=3, residual=residual))
        peaked.load_state_dict(base.state_dict(), strict=False)
        with torch.no_grad():
            peaked.res_mix_logits.copy_(torch.tensor([-60.0, -60.0, 0.0, -60.0, -60.0, -60.0]))
        assert float(peaked.residual_nll(out, r, target, steps).detach()) == pytest.approx(want, rel=1e-5)


def _gsm_draws(residual: str, t: int = 240, samples: int = 300) -> tuple[STImputer, np.ndarray]:
    """Residuals of a model with constant parameters, no own noise and no AR term: the shared term alone."""
    n = 6
    model = _model(n, residual)
    with torch.no_grad():
        model.res_mix_logits.copy_(torch.tensor([1.0, 1.0, 0.5, 0.0, -1.0, -2.0]))
    out = {"loc": np.zeros((t, n), np.float32), "psi": np.full((t, n), 1e-6, np.float32),
           "c": np.full((t, n), 0.5, np.float32), "a": np.zeros((t, n), np.float32)}
    return model, draw_residuals(model, out, np.ones((t, n), bool), samples, seed=0)


def test_gsm_samples_recover_the_mixture_kurtosis_and_covariance() -> None:
    """Shared term only: covariance c^2 W W^T (sum pi g^2 = 1), kurtosis 3 sum pi g^4 of every sensor, and the
    pooled neighbour correlation that of W W^T."""
    model, r = _gsm_draws("graph-ar-gsm")
    n = r.shape[2]
    flat = r.reshape(-1, n)
    w = model.spread().detach().numpy()
    np.testing.assert_allclose(np.cov(flat.T), 0.25 * w @ w.T, atol=0.02)
    logp, g, _ = (v.detach().numpy() for v in model.mix())
    want = 3 * float((np.exp(logp) * g**4).sum())
    assert want > 5  # heavy-tailed: a Gaussian has 3
    kurt = (flat**4).mean(0) / (flat**2).mean(0) ** 2
    np.testing.assert_allclose(kurt, want, rtol=0.15)
    s = w @ w.T
    nb_corr = s[0, 1] / np.sqrt(s[0, 0] * s[1, 1])
    assert np.corrcoef(flat[:, 0], flat[:, 1])[0, 1] == pytest.approx(nb_corr, abs=0.03)


def test_gsm_scale_is_shared_by_sensors_and_held_per_window() -> None:
    """Per step: squared sizes co-move across sensors but not along time; -window: they also co-move along time
    inside a block of ``window`` steps and not across blocks."""
    _, step = _gsm_draws("graph-ar-gsm")
    model, win = _gsm_draws("graph-ar-gsm-window")
    w = model.cfg.window

    def size_corr(r: np.ndarray, t0: int, t1: int) -> float:
        e = (r**2).sum(2)  # (S, T): the step's total squared size
        return float(np.corrcoef(e[:, t0:t1 - 1].ravel(), e[:, t0 + 1:t1].ravel())[0, 1])

    assert abs(size_corr(step, 0, 240)) < 0.05
    inside = np.mean([size_corr(win, k * w, (k + 1) * w) for k in range(240 // w)])
    assert inside > 0.3
    across = np.corrcoef((win[:, w - 1] ** 2).sum(1), (win[:, w] ** 2).sum(1))[0, 1]
    assert abs(across) < 0.15


def test_gsm_joint_scales_the_own_innovation_by_the_same_component() -> None:
    """-joint, shared term off (c = 0): the own innovation alone has the mixture's kurtosis 3 sum pi h^4, and its
    squared sizes co-move across sensors at a step (one latent component for all of them)."""
    n, t = 6, 240
    model = _model(n, "graph-ar-gsm-joint")
    with torch.no_grad():
        model.res_mix_logits.copy_(torch.tensor([1.0, 1.0, 0.5, 0.0, -1.0, -2.0]))
        model.res_mix_own.copy_(torch.tensor([-1.0, 0.0, 0.0, 0.5, 1.5, 2.0]))
    out = {"loc": np.zeros((t, n), np.float32), "psi": np.full((t, n), 0.5, np.float32),
           "c": np.full((t, n), 1e-6, np.float32), "a": np.zeros((t, n), np.float32)}
    r = draw_residuals(model, out, np.ones((t, n), bool), 300, seed=0)
    flat = r.reshape(-1, n)
    logp, _, h = (v.detach().numpy() for v in model.mix())
    np.testing.assert_allclose(flat.var(0), 0.25, rtol=0.1)  # sum pi h^2 = 1
    np.testing.assert_allclose((flat**4).mean(0) / (flat**2).mean(0) ** 2, 3 * (np.exp(logp) * h**4).sum(), rtol=0.15)
    assert np.corrcoef(flat[:, 0] ** 2, flat[:, 1] ** 2)[0, 1] > 0.2
    assert abs(np.corrcoef(flat[:, 0], flat[:, 1])[0, 1]) < 0.03
