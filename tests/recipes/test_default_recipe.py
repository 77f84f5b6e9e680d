"""The default read-out: a seeded ridge fit recovers a known mapping, and its calibration."""

from __future__ import annotations

import numpy as np

from talkinghead.models.default import DefaultModel, calibrate_zscore
from talkinghead.recipes.default import TrainClip, fit_default_model


def _clips(n=6, T=200, F=16, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(F)
    out = []
    for i in range(n):
        x = rng.standard_normal((T, F)).astype(np.float32)
        o = 0.08 + 0.02 * (x @ w) / np.sqrt(F) + 0.002 * rng.standard_normal(T)
        valid = np.ones(T, bool)
        valid[:5] = False  # frames without a face are ignored
        o[:5] = np.nan
        out.append(TrainClip(f"c{i}", f"s{i % 3}", 25.0, x, o, valid))
    return out


def test_fit_recovers_a_linear_mapping_on_held_out_clips():
    clips = _clips(n=8)
    train, test = clips[:6], clips[6:]
    m = fit_default_model(train, lam=1.0, pca=None, offsets=(0,))
    for c in test:
        z = m.predict_zscore(c.features)
        assert np.corrcoef(z[5:], c.openness[5:])[0, 1] > 0.95
    assert m.calibration.shape == (2, 101) and np.all(np.diff(m.calibration[0]) > 0)


def test_calibration_undoes_shrinkage_and_survives_a_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    true = rng.standard_normal(20000)
    cal = calibrate_zscore(0.5 * true, true)  # a prediction shrunk by half
    np.testing.assert_allclose(np.interp([-1.0, 0.0, 1.0], *cal), [-2.0, 0.0, 2.0], atol=0.05)
    m = fit_default_model(_clips(), lam=1.0, pca=8, offsets=(-1, 0, 1))
    m.save_pretrained(tmp_path / "m")
    m2 = DefaultModel.from_pretrained(tmp_path / "m")
    np.testing.assert_allclose(m2.calibration, m.calibration, rtol=1e-6, atol=1e-6)
    x = _clips(n=1, seed=5)[0].features
    np.testing.assert_allclose(m2.predict_zscore(x), m.predict_zscore(x), atol=1e-4)


def test_fast_readout_equals_the_design_matrix_product():
    """predict_zscore projects per offset instead of building (T, F * n_offsets): same result."""
    m = fit_default_model(_clips(), lam=1.0, pca=8, offsets=(-2, 0, 1, 3))
    x = _clips(n=1, seed=7)[0].features
    np.testing.assert_allclose(
        m.predict_zscore(x), m.design(x) @ m.weight + m.bias, rtol=1e-10, atol=1e-10
    )
