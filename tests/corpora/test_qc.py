"""QC measures on synthetic signals with known answers."""

from __future__ import annotations

import numpy as np

from talkinghead.corpora.qc import clip_qc, estimate_av_offset, track_jumps


def _speechlike(seed=0, n=250):
    rng = np.random.default_rng(seed)
    x = np.convolve(rng.random(n) > 0.7, np.ones(4), "same").astype(float)  # syllable bursts
    return x + 0.05 * rng.standard_normal(n)


def test_offset_found_with_sign():
    fps = 25.0
    ap = _speechlike()
    env = np.exp(np.roll(ap, 6))  # audio 6 frames (0.24 s) later than the mouth
    off, peak, zero = estimate_av_offset(aperture=ap, envelope=env, fps=fps)
    assert off == 6 / fps and peak > 0.9 > zero
    off, _, _ = estimate_av_offset(aperture=ap, envelope=np.exp(np.roll(ap, -3)), fps=fps)
    assert off == -3 / fps


def test_offset_ignores_nan_frames():
    ap = _speechlike(1)
    env = np.exp(ap)
    ap[40:60] = np.nan
    off, peak, _ = estimate_av_offset(aperture=ap, envelope=env, fps=30.0)
    assert off == 0.0 and peak > 0.99


def test_track_jumps_and_rejection():
    lm = np.zeros((10, 68, 2))
    lm[:, 36] = [0, 0]
    lm[:, 45] = [100, 0]
    lm[6:] += 80  # a jump of 0.8 IOD at frame 6
    lm[6:, 45] = [180, 80]
    valid = np.ones(10, bool)
    assert list(track_jumps(lm, valid, k=0.3)) == [6]
    n_faces = np.array([1, 1, 1, 0, 0, 0, 0, 2, 2, 1])
    qc, flags, reasons = clip_qc(
        n_faces=n_faces, valid=n_faces == 1, landmarks68=lm, aperture=np.zeros(10), fps=25.0
    )
    assert qc["valid_fraction"] == 0.4 and "no_audio" in flags and "multiple_faces" in flags
    assert reasons and reasons[0].startswith("valid_fraction=0.40")
    qc, _, reasons = clip_qc(
        n_faces=np.zeros(10),
        valid=np.zeros(10, bool),
        landmarks68=lm,
        aperture=np.zeros(10),
        fps=25.0,
    )
    assert reasons == ["no face found in any frame"]


def test_silent_and_clipped_audio_flags():
    n, fps, sr = 50, 25.0, 16000
    lm = np.zeros((n, 68, 2))
    args = dict(
        n_faces=np.ones(n),
        valid=np.ones(n, bool),
        landmarks68=lm,
        aperture=np.zeros(n),
        fps=fps,
        sr=sr,
    )
    qc, flags, _ = clip_qc(y=np.zeros(32000), **args)
    assert "silent_audio" in flags and qc["rms_dbfs"] < -150
    y = np.clip(3 * np.sin(np.arange(32000) / 5), -1, 1)
    qc, flags, _ = clip_qc(y=y, video_duration_s=2.0, audio_duration_s=2.5, **args)
    assert "clipped_audio" in flags and qc["clipped_fraction"] > 0.3
    assert "duration_mismatch" in flags and abs(qc["duration_mismatch_s"] - 0.5) < 1e-9
