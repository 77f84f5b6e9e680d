"""Known answers of the held-out protocol's mouth metrics (worked by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.evaluate.mouth_metrics import (
    jitter_ratio_scalefree,
    mouth_opening_mesh,
    mouth_width_68,
    mouth_width_mesh,
    rest_level,
)


def _mesh(gap, width, eyes=4.0):
    m = np.zeros((len(gap), 468, 3))
    m[:, 33, 0], m[:, 263, 0] = 0.0, eyes  # eye corners 4 apart
    m[:, 13, 1], m[:, 14, 1] = 0.0, gap  # inner lips
    m[:, 61, 0], m[:, 291, 0] = 0.0, width  # mouth corners
    return m


def test_opening_and_width_from_mesh():
    m = _mesh(np.array([0.0, 1.0, 2.0]), np.array([2.0, 3.0, 4.0]))
    np.testing.assert_allclose(mouth_opening_mesh(m), [0.0, 0.25, 0.5])
    np.testing.assert_allclose(mouth_width_mesh(m), [0.5, 0.75, 1.0])
    m[1, 263] = np.nan
    assert np.isnan(mouth_width_mesh(m)[1])
    with pytest.raises(InvalidArgumentError, match="468"):
        mouth_width_mesh(np.zeros((3, 68, 2)))


def test_width_from_68():
    lm = np.zeros((1, 68, 2))
    lm[0, 36, 0], lm[0, 45, 0] = 0.0, 2.0
    lm[0, 48, 0], lm[0, 54] = 0.0, [0.6, 0.8]  # |48-54| = 1.0
    np.testing.assert_allclose(mouth_width_68(lm), [0.5])


def test_rest_level_by_hand():
    # 21 frames 0..20; P5 = 1, P95 = 19 (linear interpolation); silent frames 0, 1, 2
    o = np.arange(21.0)
    s = np.zeros(21, bool)
    s[:3] = True
    # median of the silent frames = 1 -> (1 - 1) / (19 - 1) = 0
    assert rest_level(o, s) == pytest.approx(0.0)
    s[:] = False
    s[10:13] = True  # median 11 -> (11 - 1) / 18
    assert rest_level(o, s) == pytest.approx(10 / 18)
    # scale-free: any unit gives the same level
    assert rest_level(3 * o + 7, s) == pytest.approx(10 / 18)
    # an invalid frame leaves the percentiles of the other 20 frames
    v = np.ones(21, bool)
    v[20] = False  # o in 0..19: P5 = 0.95, P95 = 18.05; median 11
    assert rest_level(o, s, valid=v) == pytest.approx((11 - 0.95) / (18.05 - 0.95))
    assert math.isnan(rest_level(o, np.zeros(21, bool)))  # no silence
    assert math.isnan(rest_level(np.ones(21), s))  # flat


def test_jitter_ratio_scalefree_by_hand():
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    # any scale of the same track: ratio 1
    assert jitter_ratio_scalefree(5 * t + 2, t) == pytest.approx(1.0)
    # a ramp has no acceleration: 0
    assert jitter_ratio_scalefree(np.arange(5.0), t) == pytest.approx(0.0)
    # p = [0, 1, 0, 0, 0]: sd(p) = 0.4, sd(t) = sqrt(0.24); 2nd diffs p: [-2, 1, 0],
    # t: [-2, 2, -2]  -> (5 / 0.16) / (12 / 0.24) = 31.25 / 50 = 0.625
    p = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
    assert jitter_ratio_scalefree(p, t) == pytest.approx(0.625)
    assert math.isnan(jitter_ratio_scalefree(np.zeros(5), t))
