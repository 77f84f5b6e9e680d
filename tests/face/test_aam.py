"""AAM on real frames of one person (uncrop_Obama, downscaled to 256 px)."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError, MediaError
from talkinghead.face.aam import AAM, aam_code_targets, fit_similarity, pca_fit
from talkinghead.face.normalize import SimilarityTransform

OBAMA = "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4"


def _psnr(a, b, mask=None) -> float:
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    if mask is not None:
        d = d[mask]
    return float(10 * np.log10(255.0**2 / d.mean()))


@pytest.fixture(scope="module")
def clip(shared_data):
    from talkinghead.face.tracking import track_frames
    from talkinghead.video.io import read_video

    video = read_video(shared_data / OBAMA, max_frames=110, size=256)
    track = track_frames(video.frames, fps=video.fps)
    assert track.valid.all()
    return video.frames, track.landmarks68.astype(np.float64)


@pytest.fixture(scope="module")
def aam(clip):
    frames, lm = clip
    return AAM.fit(frames[:100], lm[:100])


def test_fit_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(20, 2))
    tf = SimilarityTransform(2.5, 0.3, (10.0, -4.0))
    est = fit_similarity(src, tf.apply(src))
    assert est.scale == pytest.approx(2.5)
    assert est.angle == pytest.approx(0.3)
    np.testing.assert_allclose(est.translation, (10.0, -4.0), atol=1e-9)


def test_pca_fit_keeps_the_requested_variance():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)) @ np.diag([10.0, 1.0, 0.1])
    _, comps, var = pca_fit(x, variance=0.95)
    assert len(comps) == 1 or var[:1].sum() / var.sum() < 0.95
    np.testing.assert_allclose(comps @ comps.T, np.eye(len(comps)), atol=1e-9)
    # Gram path (N < D) gives the same variances as the SVD path
    y = rng.normal(size=(5, 40))
    _, _, v1 = pca_fit(y, variance=1.0)
    _, _, v2 = pca_fit(np.concatenate([y, y, y]), variance=1.0)
    assert len(v1) == 4 and np.all(np.diff(v1) <= 1e-9)
    assert len(v2) >= 4


def test_shape_pca_keeps_98_percent_with_few_components(aam):
    assert aam.shape_variance_ratio >= 0.98
    assert 2 <= aam.n_shape <= 20
    assert aam.appearance_variance_ratio >= 0.98
    assert aam.n_appearance <= 99
    # mean shape is eye-pinned
    from talkinghead.face.landmarks68 import eye_centres_68

    np.testing.assert_allclose(eye_centres_68(aam.mean_shape), [[-0.5, 0], [0.5, 0]], atol=0.02)


def test_encode_decode_reconstructs_a_held_out_face(aam, clip):
    frames, lm = clip
    for t in (102, 108):
        code = aam.encode(frames[t], lm[t])
        assert code.shape == (aam.n_code,) and code.dtype == np.float32
        shape, tex = aam.decode(code)
        # texture of the held-out frame vs its reconstruction
        assert _psnr(aam.texture(frames[t], lm[t]), tex, aam.mask) > 28.0
        # decoded landmarks land on the tracked ones (pixels at 256 px)
        pts = aam.similarity(lm[t]).apply(shape)
        assert np.sqrt(((pts - lm[t]) ** 2).sum(1)).mean() < 1.5
        out = aam.render(code, background_frame=frames[t], similarity=aam.similarity(lm[t]))
        assert out.shape == frames[t].shape
        assert _psnr(out, frames[t]) > 30.0


def test_code_round_trip_and_save_load(aam, clip, tmp_path):
    frames, lm = clip
    code = aam.encode(frames[105], lm[105])
    shape, tex = aam.decode(code)
    # re-encoding the rendered face gives (nearly) the same code back: the decoded shape is
    # re-aligned on its stable points, which the shape components move slightly
    sim = aam.similarity(lm[105])
    out = aam.render(code, background_frame=frames[105], similarity=sim)
    again = aam.encode(out, sim.apply(shape))
    ds = np.abs(again[: aam.n_shape] - code[: aam.n_shape]).max()
    assert ds < 0.05 * np.abs(code[: aam.n_shape]).max()
    a, b = again[aam.n_shape :], code[aam.n_shape :]
    assert np.corrcoef(a, b)[0, 1] > 0.9
    path = aam.save(tmp_path / "aam.npz")
    other = AAM.load(path)
    np.testing.assert_allclose(other.encode(frames[105], lm[105]), code, rtol=1e-4, atol=1e-2)
    with pytest.raises(MediaError):
        AAM.load(tmp_path / "missing.npz")


def test_code_targets_mark_faceless_frames(aam, clip):
    frames, lm = clip
    lm = lm[100:104].copy()
    lm[2] = np.nan
    codes, valid = aam_code_targets(aam, frames[100:104], lm)
    assert codes.shape == (4, aam.n_code)
    assert valid.tolist() == [True, True, False, True]
    assert np.all(codes[2] == 0) and np.abs(codes[0]).sum() > 0
    with pytest.raises(InvalidArgumentError):
        aam_code_targets(aam, frames[:3], lm)


def test_lower_face_point_subset(clip, tmp_path):
    """Fan 2015's lower-face AAM: shape PCA and texture over the 42 lower-face points."""
    from talkinghead.recipes.shape import LOWER_FACE_68

    frames, lm = clip
    from talkinghead.face.aam import LOWER_FACE_OUTLINE

    sub = AAM.fit(
        frames[:100], lm[:100], n_shape=8, n_appearance=8, points=LOWER_FACE_68,
        outline=LOWER_FACE_OUTLINE,
    )  # fmt: skip
    full = AAM.fit(frames[:100], lm[:100], n_shape=8, n_appearance=8)
    assert sub.points == tuple(sorted(LOWER_FACE_68)) and full.points is None
    assert sub.shape_components.shape == (8, 2 * len(LOWER_FACE_68))
    assert 0 < sub.shape_variance_ratio <= 1 and 0 < sub.appearance_variance_ratio <= 1
    # the shape variance ratio is the subset's own: recompute it by hand from the aligned
    # training shapes (the model's similarity of each frame, the subset's coordinates)
    idx = list(LOWER_FACE_68)
    al = np.stack([sub.similarity(x).inverse().apply(x)[idx] for x in lm[:100]]).reshape(100, -1)
    xc = al - al.mean(axis=0)
    proj = xc @ sub.shape_components.T
    ratio = (proj**2).sum() / (xc**2).sum()
    assert ratio == pytest.approx(sub.shape_variance_ratio, abs=0.02)
    # the texture covers the lower face only: no pixel above the nose base's row
    rows = np.flatnonzero(sub.mask.any(axis=1))
    ref = sub.reference_points
    assert rows.min() >= np.floor(ref[idx, 1].min()) - 1
    # in model units (each reference frame has its own scale): well under the full face
    assert sub.mask.sum() / sub.ref_scale**2 < 0.6 * full.mask.sum() / full.ref_scale**2
    # held-out frame: decode moves only the subset; the upper face stays at the mean shape
    code = sub.encode(frames[105], lm[105])
    assert code.shape == (16,)
    shape, tex = sub.decode(code)
    upper = [i for i in range(68) if i not in set(idx)]
    np.testing.assert_array_equal(shape[upper], sub.mean_shape[upper])
    pts = sub.similarity(lm[105]).apply(shape)
    assert np.sqrt(((pts[idx] - lm[105][idx]) ** 2).sum(1)).mean() < 2.0
    assert _psnr(sub.texture(frames[105], lm[105]), tex, sub.mask) > 25.0
    out = sub.render(code, background_frame=frames[105], similarity=sub.similarity(lm[105]))
    changed = np.abs(out.astype(int) - frames[105].astype(int)).max(axis=2) > 0
    ys = np.flatnonzero(changed.any(axis=1))
    assert ys.size
    eyes = lm[105][36:48]
    (xa, ya), (xb, yb) = np.floor(eyes.min(0)).astype(int), np.ceil(eyes.max(0)).astype(int)
    assert not changed[ya : yb + 1, xa : xb + 1].any()  # nothing pasted over the eyes
    hull = AAM.fit(frames[:100], lm[:100], n_shape=8, n_appearance=8, points=LOWER_FACE_68)
    assert sub.mask.sum() < hull.mask.sum()  # the outline trims the convex hull (same scale)
    other = AAM.load(sub.save(tmp_path / "lower.npz"))
    assert other.points == sub.points
    np.testing.assert_allclose(other.encode(frames[105], lm[105]), code, rtol=1e-4, atol=1e-2)
    with pytest.raises(InvalidArgumentError, match="points="):
        AAM.fit(frames[:10], lm[:10], points=(1, 1))
