"""face/geometry.similarity_fit: the one similarity fit (2-D and 3-D, weighted, batched)."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face.geometry import rotation_matrix, similarity_fit


def test_recovers_a_known_2d_similarity_per_frame():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(4, 20, 2))
    angles, scales = np.array([0.3, -1.2, 2.5, 0.0]), np.array([0.5, 1.0, 2.0, 7.0])
    c, s = np.cos(angles), np.sin(angles)
    R = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (4, 2, 2)
    dst = scales[:, None, None] * np.einsum("tij,tnj->tni", R, src) + [3.0, -1.0]
    s_fit, R_fit, t_fit = similarity_fit(src, dst)
    np.testing.assert_allclose(s_fit, scales, rtol=1e-12)
    np.testing.assert_allclose(R_fit, R, atol=1e-12)
    np.testing.assert_allclose(t_fit, np.tile([3.0, -1.0], (4, 1)), atol=1e-12)


def test_a_mirror_image_gets_a_proper_rotation_and_one_dst_broadcasts():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(3, 12, 3))
    dst = src[0] * [1.0, 1.0, -1.0]  # a reflection: no rotation reaches it
    _, R, _ = similarity_fit(src, dst)
    assert R.shape == (3, 3, 3)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)


def test_weights_and_rigid_fit():
    rng = np.random.default_rng(2)
    src = rng.normal(size=(30, 3))
    r = rotation_matrix([0.1, 0.5, -0.2])
    dst = 2.0 * src @ r.T + [1, 2, 3]
    dst[:5] += 50.0  # outliers, weighted out
    w = np.r_[np.zeros(5), np.ones(25)]
    s, R, t = similarity_fit(src, dst, w)
    assert s == pytest.approx(2.0) and np.allclose(R, r) and np.allclose(t, [1, 2, 3])
    s, R, _ = similarity_fit(src[5:], dst[5:] / 2.0, with_scale=False)
    assert s == 1.0 and np.allclose(R, r)


def test_coincident_points_and_bad_shapes():
    s, _, t = similarity_fit(np.zeros((5, 2)), np.arange(10.0).reshape(5, 2))
    assert s == 0.0 and np.allclose(t, [4.0, 5.0])
    with pytest.raises(InvalidArgumentError, match=r"src.shape=\(5, 4\)"):
        similarity_fit(np.zeros((5, 4)), np.zeros((5, 4)))
