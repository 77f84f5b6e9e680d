"""Known-answer tests of the evaluation metrics."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.audio.phones import Phone
from talkinghead.errors import InvalidArgumentError
from talkinghead.evaluate import metrics as M

FPS = 25.0


def _speechlike(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = np.convolve(rng.standard_normal(n + 20), np.hanning(9), mode="same")[10:-10]
    return np.abs(x)


def _face(n=50, iod=100.0, seed=0):
    """A (n, 68, 2) face whose outer eye corners 36 / 45 are ``iod`` apart."""
    rng = np.random.default_rng(seed)
    lm = rng.uniform(-50, 50, size=(n, 68, 2))
    lm[:, 36] = [-iod / 2, 0.0]
    lm[:, 45] = [iod / 2, 0.0]
    return lm


def test_identical_tracks_perfect():
    o = _speechlike()
    assert M.mouth_corr(o, o) == pytest.approx(1.0)
    off, r = M.sync_offset(o, o, fps=FPS)
    assert off == 0.0 and r == pytest.approx(1.0)
    lm = _face()
    assert M.landmark_rmse(lm, lm) == 0.0
    assert M.landmark_rmse(lm, lm, points=M.LIPS) == 0.0
    assert M.param_mse_per_dim(lm[:, :5, 0], lm[:, :5, 0]) == 0.0
    assert M.lip_diff_mse(lm, lm, order=1) == 0.0
    assert M.lip_diff_mse(lm, lm, order=2) == 0.0
    np.testing.assert_array_equal(M.landmark_errors(lm, lm), np.zeros(68))


@pytest.mark.parametrize("k", [1, 2, 3, -2])
def test_sync_offset_sign(k):
    t = _speechlike(300)
    p = np.roll(t, k)  # p[i] = t[i - k]: k > 0 delays the prediction (late)
    off, r = M.sync_offset(p, t, fps=FPS)
    assert off == pytest.approx(k * 1000 / FPS)
    assert r > 0.99
    # swapping the roles flips the sign
    assert M.sync_offset(t, p, fps=FPS)[0] == pytest.approx(-k * 1000 / FPS)


def test_sync_offset_subframe():
    # a smooth sinusoid delayed by 1.5 frames: the parabola lands near 60 ms at 25 fps
    i = np.arange(400)
    t = np.sin(2 * np.pi * i / 37.0)
    p = np.sin(2 * np.pi * (i - 1.5) / 37.0)
    off_int, _ = M.sync_offset(p, t, fps=FPS)
    off_sub, _ = M.sync_offset(p, t, fps=FPS, subframe=True)
    assert off_int in (40.0, 80.0)
    assert off_sub == pytest.approx(60.0, abs=3.0)
    # the search range is respected
    far = np.roll(t, 10)  # 400 ms late
    assert abs(M.sync_offset(far, t, fps=FPS, max_lag_ms=200)[0]) <= 200


def test_constant_prediction_r_zero():
    assert M.mouth_corr(np.full(50, 0.3), _speechlike(50)) == 0.0
    assert M.pearson_r(np.zeros(10), np.zeros(10)) == 0.0


def test_rmse_normalised_by_interocular():
    true = _face(iod=100.0)
    pred = true.copy()
    pred[:, 48:68] += [3.0, 4.0]  # every lip point 5 px off = 0.05 iod
    assert M.landmark_rmse(pred, true, points=M.LIPS) == pytest.approx(0.05)
    assert M.landmark_rmse(pred, true) == pytest.approx(0.05 * np.sqrt(20 / 68))
    # the same error on a face twice the size is half the normalised error
    big = _face(iod=200.0)
    predb = big.copy()
    predb[:, 48:68] += [3.0, 4.0]
    assert M.landmark_rmse(predb, big, points=M.LIPS) == pytest.approx(0.025)
    np.testing.assert_allclose(M.interocular_distance(big), 200.0)
    errs = M.landmark_errors(pred, true)
    np.testing.assert_allclose(errs[48:], 0.05)
    np.testing.assert_allclose(errs[:48], 0.0)
    # invalid frames are skipped
    pred2 = pred.copy()
    pred2[0] += 1000
    valid = np.ones(len(true), bool)
    valid[0] = False
    assert M.landmark_rmse(pred2, true, points=M.LIPS, valid=valid) == pytest.approx(0.05)


def test_lip_diff_mse_known():
    true = _face(n=10, iod=1.0)
    true[:] = true[0]  # still face
    pred = true.copy()
    pred[:, 48:68, 0] += np.arange(10)[:, None] * 0.1  # lips drift at 0.1 iod per frame
    assert M.lip_diff_mse(pred, true, order=1) == pytest.approx(0.01 / 2)  # x only: mean over x,y
    assert M.lip_diff_mse(pred, true, order=2) == pytest.approx(0.0, abs=1e-20)


def test_corr_codes_scaled_shifted():
    rng = np.random.default_rng(1)
    codes = [rng.standard_normal((40, 16)), rng.standard_normal((25, 16))]
    for mode in ("frame", "dimension"):
        assert M.corr_codes(codes, [c * 2.5 + 7.0 for c in codes], mode=mode) == pytest.approx(1.0)
        assert M.corr_codes(codes, [-c for c in codes], mode=mode) == pytest.approx(-1.0)
    # the paper's frame-weighted average: a perfect 40-frame video and an
    # uncorrelated (constant) 25-frame video give 40/65
    flat = [codes[0], np.zeros((25, 16))]
    assert M.corr_codes(flat, codes, mode="frame") == pytest.approx(40 / 65)
    assert M.corr_codes(flat, codes, mode="dimension") == pytest.approx(0.5)
    with pytest.raises(InvalidArgumentError):
        M.corr_codes(codes, codes, mode="nope")


def test_group_by_emotion():
    g = M.group_by([1.0, 3.0, 5.0, np.nan], ["ANG", "ANG", "HAP", "HAP"])
    assert g == {"ANG": {"value": 2.0, "n": 2}, "HAP": {"value": 5.0, "n": 2}}


def test_mouth_openness_dispatch():
    lm = np.zeros((3, 68, 2))
    lm[:, 36] = [0, 0]
    lm[:, 45] = [10, 0]
    lm[:, 62] = [5, 5]
    lm[:, 66] = [5, 7]
    np.testing.assert_allclose(M.mouth_openness(lm), 0.2)
    mesh = np.zeros((3, 468, 3))
    mesh[:, 33] = [0, 0, 0]
    mesh[:, 263] = [4, 0, 0]
    mesh[:, 14] = [0, 1, 0]
    np.testing.assert_allclose(M.mouth_openness(mesh), 0.25)
    bs = np.zeros((3, 52))
    bs[:, 17] = [0.1, 0.5, 0.9]  # jawOpen
    np.testing.assert_allclose(M.mouth_openness(bs), [0.1, 0.5, 0.9])
    with pytest.raises(InvalidArgumentError):
        M.mouth_openness(np.zeros((3, 5, 2)))


def _closing_track():
    """0.5 s open / 0.2 s bilabial segments; the mouth closes in 3 of the 4 segments."""
    n = 100
    o = np.full(n, 0.4)
    phones, t = [], 0.0
    for i in range(4):
        phones.append(Phone("AA", t, t + 0.5))
        phones.append(Phone(["P", "B", "M", "P"][i], t + 0.5, t + 0.7))
        if i != 2:
            a, b = int(round((t + 0.55) * FPS)), int(round((t + 0.65) * FPS))
            o[a:b] = 0.0
        t += 0.7
    phones.append(Phone("SIL", t, n / FPS))
    return o, phones


def test_bilabial_closure_rate_three_of_four():
    o, phones = _closing_track()
    rate, n = M.bilabial_closure_rate(o, phones, fps=FPS)
    assert n == 4 and rate == pytest.approx(0.75)
    # never closing -> 0; no bilabials -> NaN
    never = np.where(o == 0, 0.4, o)
    never[:5] = 0.0  # closed only in the first, silent-free 0.2 s: no /p b m/ there
    assert M.bilabial_closure_rate(never, phones, fps=FPS) == (0.0, 4)
    assert np.isnan(M.bilabial_closure_rate(o, [Phone("AA", 0, 1)], fps=FPS)[0])


def test_bilabial_closure_lead():
    n = 50
    o = np.full(n, 0.5)
    o[0] = 0.0  # gives the clip a range
    o[21:23] = 0.0  # closed at 0.84 and 0.88 s: up to 40 ms before the /m/ at 0.92 s
    phones = [Phone("AA", 0, 0.92), Phone("M", 0.92, 1.0), Phone("AA", 1.0, 2.0)]
    assert M.bilabial_closure_rate(o, phones, fps=FPS, lead_ms=60)[0] == 1.0
    assert M.bilabial_closure_rate(o, phones, fps=FPS, lead_ms=0)[0] == 0.0


def test_jitter_ratio():
    t = _speechlike(300)
    assert M.jitter_ratio(t, t) == pytest.approx(1.0)
    noisy = t + np.random.default_rng(3).normal(0, 0.05, t.shape)
    assert M.jitter_ratio(noisy, t) > 1.0
    assert M.jitter_ratio(M.smooth(t, fps=FPS, window_ms=200), t) < 1.0


def test_silence_motion():
    n = 100
    silent = np.zeros(n, bool)
    silent[:30] = silent[70:] = True
    o = np.full(n, 0.05)
    o[30:70] = _speechlike(40) + 0.1
    assert M.silence_motion(o, silent) == pytest.approx(0.0, abs=1e-12)
    moving = _speechlike(n)
    assert M.silence_motion(moving, silent) > 0.3
    phones = [Phone("SIL", 0, 1.2), Phone("AA", 1.2, 2.8), Phone("SIL", 2.8, 4.0)]
    np.testing.assert_array_equal(M.silence_mask_from_phones(phones, n_frames=n, fps=FPS), silent)


def test_silence_mask_from_energy():
    sr = 16000
    y = np.zeros(sr * 2)
    y[sr // 2 : 3 * sr // 2] = 0.3 * np.sin(np.arange(sr) * 0.2)
    m = M.silence_mask_from_energy(y=y, sr=sr, fps=FPS, n_frames=50)
    assert m[:10].all() and m[40:].all() and not m[15:35].any()


def test_shape_errors():
    with pytest.raises(InvalidArgumentError, match="must equal"):
        M.mouth_corr(np.zeros(5), np.zeros(6))
    with pytest.raises(InvalidArgumentError, match=r"\(T, 68, D\)"):
        M.landmark_rmse(np.zeros((5, 10, 2)), np.zeros((5, 10, 2)))
