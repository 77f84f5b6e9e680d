"""Personalised head-pose model: AR(2) fit on known processes, generation statistics."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import CheckpointError, InvalidArgumentError
from talkinghead.models.head_pose import HeadPoseModel, fit_ar, pose_stats

# a1, a2, b_energy, b_f0 per channel (stationary: complex roots of modulus < 1)
TRUE = np.array([
    [1.6, -0.7, 0.010, 0.000],
    [1.2, -0.4, -0.020, 0.005],
    [0.9, 0.0, 0.000, 0.010],
    [1.5, -0.6, 0.030, 0.000],
    [1.0, -0.3, 0.000, -0.010],
])  # fmt: skip


def _synthetic(T: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    e = np.clip(np.convolve(rng.random(T + 20), np.ones(20) / 20, "valid")[:T] * 1.5, 0, 1.5)
    f = np.clip(np.convolve(rng.standard_normal(T + 10), np.ones(10) / 3, "valid")[:T], -3, 3)
    feats = np.stack([e, f], axis=1)
    z = np.zeros((T, 5))
    sd = 0.004 + 0.01 * e  # innovation std follows the energy
    for t in range(2, T):
        z[t] = (TRUE[:, 0] * z[t - 1] + TRUE[:, 1] * z[t - 2] + TRUE[:, 2] * e[t]
                + TRUE[:, 3] * f[t] + sd[t] * rng.standard_normal(5))  # fmt: skip
    mean = np.array([0.05, -0.1, 0.02, 3.0, 1.5])
    return z + mean, feats


def test_fit_ar_recovers_coefficients():
    pose, feats = _synthetic(6000)
    for k in range(5):
        coef, resid, used = fit_ar(pose[:, k], feats)
        np.testing.assert_allclose(coef[:2], TRUE[k, :2], atol=0.03)
        np.testing.assert_allclose(coef[2:4], TRUE[k, 2:4], atol=0.003)
        assert used.sum() == 6000 - 2 and np.isnan(resid[:2]).all()


def test_model_fit_recovers_and_generates_matching_statistics(tmp_path):
    pose, feats = _synthetic(6000)
    pose[100:110] = np.nan  # lost frames are skipped
    m = HeadPoseModel.fit(pose, features=feats, fps=25, smooth_sigma=0)
    np.testing.assert_allclose(m.coef[:, :2], TRUE[:, :2], atol=0.03)
    np.testing.assert_allclose(m.mean, np.nanmean(pose, 0), atol=1e-9)
    # innovation variance s0 + s1 e: rises with energy like the true one (0.004 + 0.01 e)^2
    assert np.all(m.noise[:, 1] > 0)
    gen = m.generate(feats, seed=1)
    assert gen.shape == (6000, 5) and np.all(np.isfinite(gen))
    sr, sg = pose_stats(pose, feats[:, 0]), pose_stats(gen, feats[:, 0])
    np.testing.assert_allclose(sg["std"], sr["std"], rtol=0.25)
    np.testing.assert_allclose(sg["vel_std"], sr["vel_std"], rtol=0.15)
    assert np.all((gen >= m.low - 1e-12) & (gen <= m.high + 1e-12))
    # deterministic, and the JSON round trip keeps the generator
    np.testing.assert_array_equal(m.generate(feats[:50], seed=3), m.generate(feats[:50], seed=3))
    m2 = HeadPoseModel.load(m.save(tmp_path / "hp.json"))
    np.testing.assert_allclose(m2.generate(feats[:50], seed=3), m.generate(feats[:50], seed=3))


def test_bad_inputs():
    pose, feats = _synthetic(100)
    with pytest.raises(InvalidArgumentError, match="features.shape"):
        HeadPoseModel.fit(pose, features=feats[:50], fps=25)
    with pytest.raises(InvalidArgumentError, match="valid frames"):
        HeadPoseModel.fit(np.full((100, 5), np.nan), features=feats, fps=25)


def test_load_missing(tmp_path):
    with pytest.raises(CheckpointError, match="head-pose"):
        HeadPoseModel.load(tmp_path / "nope.json")
