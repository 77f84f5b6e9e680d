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
