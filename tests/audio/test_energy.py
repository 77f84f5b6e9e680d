"""audio/energy.py: frame RMS, the centred RMS envelope (moved from corpora/qc.py and
evaluate/baselines.py; the silence gate and smoothing are tested in tests/evaluate)."""

from __future__ import annotations

import numpy as np

from talkinghead.audio.energy import frame_rms, rms_envelope


def test_frame_rms_per_frame():
    sr, fps = 16000, 25.0
    y = np.concatenate([np.zeros(640), 0.5 * np.ones(640)])
    env = frame_rms(y=y, sr=sr, fps=fps, n_frames=3)
    np.testing.assert_allclose(env, [0.0, 0.5, 0.0])


def test_energy_envelope_known():
    sr, fps = 16000, 25.0
    y = np.zeros(sr * 2)
    y[sr // 2 : sr] = 0.5  # DC burst 0.5-1.0 s: RMS 0.5 inside
    env = rms_envelope(y=y, sr=sr, fps=fps, n_frames=50, smooth_ms=0)
    assert env.shape == (50,)
    np.testing.assert_allclose(env[14:24], 0.5)
    np.testing.assert_allclose(env[:11], 0.0)
    np.testing.assert_allclose(env[27:], 0.0)
