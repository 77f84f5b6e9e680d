"""Known-answer tests of the papers' metrics (values computed by hand in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.evaluate import metrics as M
from talkinghead.evaluate import paper_metrics as PM
from talkinghead.evaluate.baselines import Prediction
from talkinghead.evaluate.run import evaluate_clips
from talkinghead.evaluate.truth import ClipTruth
from talkinghead.face.head3d import HeadModel


def test_pham_param_error_sums_dimensions_and_pools_frames():
    # clip A: errors (1, 2) and (0, 0) -> ||e||^2 = 5 and 0; clip B: (3, 0) -> 9
    pa, ta = np.zeros((2, 2)), np.array([[1.0, 2.0], [0.0, 0.0]])
    pb, tb = np.zeros((1, 2)), np.array([[3.0, 0.0]])
    assert PM.pham_param_error_parts(pa, ta) == (5.0, 2)
    # eps = (5 + 0 + 9) / 3 frames
    assert PM.pham_param_error([pa, pb], [ta, tb]) == pytest.approx(14 / 3)
    # today's variant divides by D = 2 and is per clip: 5 / 4 and 9 / 2
    assert M.param_mse_per_dim(pa, ta) == pytest.approx(1.25)
    assert M.param_mse_per_dim(pb, tb) == pytest.approx(4.5)
    # a NaN frame and an invalid frame are not counted
    ta2 = np.array([[1.0, 2.0], [np.nan, 0.0]])
    assert PM.pham_param_error_parts(pa, ta2) == (5.0, 1)
    assert PM.pham_param_error_parts(pa, ta, valid=[False, True]) == (0.0, 1)
    assert math.isnan(PM.pham_param_error([pa], [ta], valids=[[False, False]]))


def _head(n_vertices=468):
    """A head whose rest Face Mesh spans 0.1 m in x; shape 0 moves every vertex +1 mm in x,
    shape 1 moves it +1 mm in z (toward the camera)."""
    neutral = np.zeros((n_vertices, 3))
    neutral[:, 0] = np.linspace(-0.05, 0.05, n_vertices)
    deltas = np.zeros((2, n_vertices, 3))
    deltas[0, :, 0] = 0.001
    deltas[1, :, 2] = 0.001
    return HeadModel(
        names=("dx", "dz"), neutral=neutral, faces=np.zeros((0, 3), int), deltas=deltas
    )


def test_pham_landmark_rmse_known():
    head = _head()
    assert PM.head_size(head) == pytest.approx(0.1)
    T = 4
    true = np.zeros((T, 5))  # no rotation, weights 0
    pred = np.zeros((T, 5))
    pred[:, 3] = 2.0  # every landmark 2 mm to the right
    # every landmark is off by 2 mm -> RMSE 2 mm; in the image 0.002 m / 0.1 m = 0.02
    assert PM.pham_landmark_rmse(pred, true, dims=3, head=head) == pytest.approx(2.0, rel=1e-6)
    assert PM.pham_landmark_rmse(pred, true, dims=2, head=head) == pytest.approx(0.02, rel=1e-6)
    # a pure depth move: 3 mm in 3-D, nothing on the image plane
    pz = np.zeros((T, 5))
    pz[:, 4] = 3.0
    assert PM.pham_landmark_rmse(pz, true, dims=3, head=head) == pytest.approx(3.0, rel=1e-6)
    assert PM.pham_landmark_rmse(pz, true, dims=2, head=head) == pytest.approx(0.0, abs=1e-9)
    # pooled over frames: clip 1 (4 frames, 2 mm) + clip 2 (1 frame, exact) ->
    # sqrt((4 * 68 * 4 + 0) / (5 * 68)) = sqrt(3.2)
    got = PM.pham_landmark_rmse([pred, true[:1]], [true, true[:1]], dims=3, head=head)
    assert got == pytest.approx(math.sqrt(3.2), rel=1e-6)
    with pytest.raises(InvalidArgumentError):
        PM.pham_landmark_rmse(pred, true, dims=1, head=head)
    with pytest.raises(InvalidArgumentError):
        PM.pham_landmarks(np.zeros((2, 4)), head=head)


def test_pham_rotation_parameters():
    # a rotation of 90 degrees about y: quaternion vector (0, sin 45, 0)
    q = np.array([[0.0, math.sin(math.pi / 4), 0.0]])
    np.testing.assert_allclose(PM.quaternion_vector_to_rotvec(q), [[0, math.pi / 2, 0]])
    np.testing.assert_allclose(PM.quaternion_vector_to_rotvec(np.zeros((1, 3))), 0.0)
    from talkinghead.recipes.pham2017 import rotvec_to_quaternion_vector

    r = np.array([[0.1, -0.2, 0.3]])
    np.testing.assert_allclose(
        PM.quaternion_vector_to_rotvec(rotvec_to_quaternion_vector(r)), r, atol=1e-6
    )
    # rotating the head by 180 degrees about z moves a point at distance r from the z axis
    # by 2 r: with weights 0 the landmark xs are the rest ones, y = z = 0
    head = _head()
    true = np.zeros((1, 5))
    pred = np.zeros((1, 5))
    pred[0, 2] = 1.0  # sin(90 deg) about z
    lm = PM.pham_landmarks(true, head=head)
    want = 2 * np.sqrt(np.mean(lm[0, :, 0] ** 2)) * 1000
    assert PM.pham_landmark_rmse(pred, true, head=head) == pytest.approx(want, rel=1e-6)


def test_sakurai_corr_pools_frames_of_all_videos():
    # video 1: r = +1 then -1; video 2: one frame with r(123, 132) = 0.5
    v1p = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    v1t = np.array([[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]])
    v2p = np.array([[1.0, 2.0, 3.0]])
    v2t = np.array([[1.0, 3.0, 2.0]])
    assert PM.sakurai_corr_parts(v1p, v1t) == pytest.approx((0.0, 2))
    # Eq. (3): (1 - 1 + 0.5) / (2 + 1) frames, not the mean of the videos' means (0.25)
    assert PM.sakurai_corr([v1p, v2p], [v1t, v2t]) == pytest.approx(1 / 6)
    assert PM.sakurai_corr([v1p, v2p], [v1t, v2t]) == pytest.approx(
        M.corr_codes([v1p, v2p], [v1t, v2t], mode="frame")
    )


def _eyes_face(T, scale_per_frame):
    """68 points at the origin except the eyes: right eye at (100, 200), left eye 40 px to
    its right in frame 0; frame t is scaled about the origin by ``scale_per_frame[t]``."""
    lm = np.zeros((T, 68, 2))
    lm[:, 36:42] = [100.0, 200.0]
    lm[:, 42:48] = [140.0, 200.0]
    lm[:, 48:68] = [120.0, 260.0]
    return lm * np.asarray(scale_per_frame, float)[:, None, None]


def test_eskimez_lip_mse_in_first_frame_eye_units():
    # the first frame's eye centres are 40 px apart and pinned 1 apart: 4 px = 0.1
    true = _eyes_face(3, [1.0, 2.0, 1.0])  # frame 1 is twice as big: still frame 0's units
    pred = true.copy()
    pred[:, 48:68, 0] += 4.0
    # error (0.1, 0) at every lip point of every frame: mean over the 2 coordinates = 0.005
    assert PM.eskimez_lip_mse(pred, true) == pytest.approx(0.005)
    assert PM.eskimez_lip_mse_parts(pred, true) == pytest.approx((0.01 * 60, 3 * 20 * 2))
    # per-frame inter-ocular units (today's lip_diff_mse basis) differ: frame 1 halves it
    # temporal differences: offsets 4, 8, 4 px -> differences +4, -4 px -> (0.1)^2 / 2
    pred2 = true.copy()
    pred2[:, 48:68, 0] += np.array([4.0, 8.0, 4.0])[:, None]
    assert PM.eskimez_lip_mse(pred2, true, order=1) == pytest.approx(0.005)
    # second difference: +4 - (-4)... (4 - 8) - (8 - 4) = -8 px -> 0.2^2 / 2
    assert PM.eskimez_lip_mse(pred2, true, order=2) == pytest.approx(0.02)
    # identity removal is a common shift: it cancels in every difference
    pn, tn = PM.eskimez_normalize(pred, true)
    np.testing.assert_allclose(pn - tn, (pred - true) / 40.0, atol=1e-12)
    # an invalid middle frame drops it and both first differences that span it
    assert PM.eskimez_lip_mse_parts(pred2, true, order=1, valid=[True, False, True])[1] == 0
    with pytest.raises(InvalidArgumentError):
        PM.eskimez_lip_mse(pred, true, order=3)


def test_pool_skips_empty_parts():
    assert PM.pool([(4.0, 2), (0.0, 0), (float("nan"), 3)]) == 2.0
    assert PM.pool([(8.0, 2)], root=True) == 2.0
    assert math.isnan(PM.pool([]))


def test_evaluate_reports_pooled_paper_metrics_per_emotion():
    # two clips of two emotions, with true and predicted parameters (5 = 3 + 2 weights)
    T = 6
    rng = np.random.default_rng(0)
    clips, preds = [], []
    for i, emo in enumerate(["happy", "sad"]):
        lm = _eyes_face(T, np.ones(T)) + rng.normal(0, 1, (T, 68, 2))
        tp = np.zeros((T, 4))
        pp = np.zeros((T, 4))
        pp[:, 0] = i + 1.0  # ||e||^2 = 1 (happy), 4 (sad) per frame
        clips.append(
            ClipTruth(
                id=f"c{i}", fps=25.0, valid=np.ones(T, bool), landmarks=lm, emotion=emo, params=tp
            )  # fmt: skip
        )
        o = M.mouth_openness(lm)
        preds.append(Prediction(o, landmarks=lm, params=pp))
    res = evaluate_clips(clips, {"sys": preds}, with_phones=False)
    agg = res.aggregates()["sys"]
    # pooled over the 12 frames: (6 * 1 + 6 * 4) / 12 = 2.5; per emotion 1 and 4
    assert agg["pham_param_error"]["pooled"] == pytest.approx(2.5)
    assert agg["pham_param_error"]["frames"] == 12
    assert agg["by_emotion"]["happy"]["pham_param_error"] == pytest.approx(1.0)
    assert agg["by_emotion"]["sad"]["pham_param_error"] == pytest.approx(4.0)
    # the per-dimension variant: 1 / 4 and 4 / 4 per clip
    assert res.rows[0]["param_mse_per_dim"] == pytest.approx(0.25)
    # the prediction's landmarks equal the truth: Eskimez's lip MSE is 0
    assert agg["eskimez_lip_mse"]["pooled"] == pytest.approx(0.0, abs=1e-20)
    assert "pham_param_error" in res.paper_table()
