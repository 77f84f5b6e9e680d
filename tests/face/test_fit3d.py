"""Fitting the blendshape head to meshes: synthetic known answers and a real GRID clip."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.face.fit3d import fit_blendshapes
from talkinghead.face.geometry import similarity_fit
from talkinghead.face.head3d import euler_to_rotation, load_head_model, rotation_matrix
from talkinghead.face.landmarks68 import mouth_openness_mesh

NAMES = ["jawOpen", "mouthSmileLeft", "eyeBlinkRight", "mouthPucker", "browInnerUp"]


def test_similarity_transform_recovers_known_pose():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(30, 3))
    r = rotation_matrix([0.2, -0.4, 0.1])
    dst = 3.0 * src @ r.T + [1, 2, 3]
    s, rr, t = similarity_fit(src, dst)
    assert s == pytest.approx(3.0)
    np.testing.assert_allclose(rr, r, atol=1e-9)
    np.testing.assert_allclose(t, [1, 2, 3], atol=1e-9)


def test_fit_recovers_synthetic_weights_and_rotation():
    m = load_head_model()
    rng = np.random.default_rng(0)
    n = 40
    w = np.zeros((n, 52))
    for j, name in enumerate(NAMES):
        w[:, m.index(name)] = 0.5 + 0.4 * np.sin(np.arange(n) / 5 + j)
    rv = euler_to_rotation(0.2 * np.sin(np.arange(n) / 9), 0.1 * np.cos(np.arange(n) / 7), 0.05)
    mesh = np.stack([m.pose(w[t], rv[t])[:468] for t in range(n)]) * 2000 + [300, 200, 0]
    mesh = (mesh + rng.normal(0, 0.3, mesh.shape)) * [1, -1, -1]  # image axes, ~0.3 px noise
    res = fit_blendshapes(mesh, fps=25, adapt_neutral=False)
    err = np.abs(res.animation.weights - w)
    cols = [m.index(k) for k in NAMES]
    assert err[:, cols].mean() < 0.02
    assert err.mean() < 0.02
    assert np.abs(res.animation.rotation - rv).max() < 0.02
    assert np.nanmax(res.residual) < 0.01
    assert res.animation.weights.min() >= 0 and res.animation.weights.max() <= 1


def test_fit_real_grid_clip_follows_lip_aperture(shared_data):
    from talkinghead.face.tracking import track_video

    track = track_video(shared_data / "grid_s1/video/bbaf2n.mp4", max_frames=75)
    res = fit_blendshapes(track.mesh, fps=track.fps, valid=track.valid)
    ok = track.valid
    assert ok.sum() > 60
    assert np.nanmedian(res.residual) < 0.03  # RMS error < 3 % of the eye-corner distance
    jaw = res.animation.column("jawOpen")[ok]
    aperture = mouth_openness_mesh(track.mesh[ok])
    # jawOpen alone follows the inner-lip gap (0.80 here; lip shapes such as
    # mouthLowerDown/mouthPress explain the rest), the fitted mesh follows it closely
    assert np.corrcoef(jaw, aperture)[0, 1] > 0.75
    # the fitted mesh follows it closely: its signed vertical lip gap (the head's lips are
    # closed at rest, so pressing shapes may cross them a little: |gap| would fold there)
    d = load_head_model().deform(res.animation.weights[ok])[:, :468]
    fitted = (d[:, 13, 1] - d[:, 14, 1]) / np.linalg.norm(d[:, 33] - d[:, 263], axis=1)
    assert np.corrcoef(fitted, aperture)[0, 1] > 0.9
    yaw, pitch, roll = res.animation.euler()
    assert np.abs(yaw[ok]).max() < 0.5  # a frontal clip
