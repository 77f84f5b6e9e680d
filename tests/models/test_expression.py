"""Upper-face motion: brows on emphasis, blinks on the eyelids, roll, and one face in 2D and 3D."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face.arkit import ARKIT_INDEX
from talkinghead.face.normalize import neutral_face_68
from talkinghead.models.expression import (
    BROW_AT_ONE,
    apply_upper_face_68,
    procedural_brows,
    upper_face_motion,
)


def _bursts(sr=16000, fps=25.0):
    """1 s silence, 2 s of syllable-like 4 Hz bursts, 1 s silence."""
    t = np.arange(2 * sr) / sr
    burst = (np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 4) * 0.3
    y = np.concatenate([np.zeros(sr), burst, np.zeros(sr)]).astype(np.float32)
    return y, sr, fps, int(round(len(y) / sr * fps))


def test_brows_rise_with_emphasis_and_rest_in_silence():
    from talkinghead.audio.energy import frame_rms

    y, sr, fps, n = _bursts()
    b = procedural_brows(frame_rms(y=y, sr=sr, fps=fps, n_frames=n), fps)
    assert b.shape == (n,) and b.min() >= 0 and b.max() <= 1
    assert b[30:70].max() > 0.02  # raised during speech
    assert b[:12].max() < 1e-3 and b[-10:].max() < 1e-3  # at rest well inside the silences


def test_upper_face_is_deterministic_and_shaped():
    y, sr, fps, n = _bursts()
    a = upper_face_motion(y=y, sr=sr, fps=fps, n_frames=n, seed=3)
    b = upper_face_motion(y=y, sr=sr, fps=fps, n_frames=n, seed=3)
    assert a.rotation.shape == (n, 3) and a.brow.shape == (n,) and a.blink.shape == (n,)
    np.testing.assert_array_equal(a.rotation, b.rotation)
    other = upper_face_motion(y=y[::-1].copy(), sr=sr, fps=fps, n_frames=n)  # seed from the audio
    assert not np.allclose(
        other.rotation, upper_face_motion(y=y, sr=sr, fps=fps, n_frames=n).rotation
    )
    quiet = upper_face_motion(y=None, sr=None, fps=fps, n_frames=n)
    assert quiet.brow.max() < 0.5 and quiet.blink.max() == pytest.approx(1.0, abs=0.05)


def test_68_points_show_brows_blinks_and_roll():
    lm = np.repeat(neutral_face_68()[None], 3, axis=0)
    out = apply_upper_face_68(lm, brow=np.array([0, 1, 0.0]), blink=np.array([0, 0, 1.0]))
    np.testing.assert_allclose(out[1, 17:27, 1], lm[1, 17:27, 1] - BROW_AT_ONE, atol=1e-6)
    np.testing.assert_allclose(out[2, 37], lm[2, 41], atol=1e-6)  # the upper lid meets the lower
    np.testing.assert_allclose(out[0], lm[0], atol=1e-6)
    rot = np.zeros((3, 3))
    rot[:, 2] = 0.1  # roll about the camera axis
    r = apply_upper_face_68(lm, rotation=rot)
    d0 = np.linalg.norm(lm[0, 45] - lm[0, 36])
    assert np.linalg.norm(r[0, 45] - r[0, 36]) == pytest.approx(d0, rel=1e-5)  # rigid
    assert (
        abs(np.arctan2(*(r[0, 45] - r[0, 36])[::-1]) - np.arctan2(*(lm[0, 45] - lm[0, 36])[::-1]))
        > 0.05
    )
    # roll > 0 (head3d: toward the subject's right shoulder): the subject's left eye corner
    # (point 45, image right) goes up (smaller y), as on the 3D head
    assert r[0, 45, 1] < lm[0, 45, 1] - 0.01 and r[0, 36, 1] > lm[0, 36, 1] + 0.01
    with pytest.raises(InvalidArgumentError, match="brow.shape"):
        apply_upper_face_68(lm, brow=np.zeros(4))


def test_animation_carries_the_upper_face_into_the_blendshapes(example_speech, tmp_path):
    from talkinghead.inference import Animation, animate
    from talkinghead.models.blendshape_bridge import animation_to_blendshapes

    a = animate(example_speech, model="phonetic")
    assert a.rotation.shape == (a.n_frames, 3) and a.blink.shape == (a.n_frames,)
    a.save(tmp_path / "a.npz")
    b = Animation.load(tmp_path / "a.npz")
    np.testing.assert_allclose(b.blink, a.blink)
    bs = animation_to_blendshapes(b)
    np.testing.assert_allclose(bs.rotation, a.rotation, atol=1e-6)
    np.testing.assert_allclose(bs.weights[:, ARKIT_INDEX["eyeBlinkLeft"]], a.blink, atol=1e-6)
    np.testing.assert_allclose(bs.weights[:, ARKIT_INDEX["browInnerUp"]], a.brow, atol=1e-6)


def test_renderers_keep_the_animation_blinks_or_reopen_the_eyes():
    from types import SimpleNamespace

    from talkinghead.models.expression import driving_landmarks

    lm = np.repeat(neutral_face_68()[None], 2, axis=0)
    closed = apply_upper_face_68(lm, blink=np.array([0.0, 1.0]))
    anim = SimpleNamespace(landmarks=closed, blink=np.array([0.0, 1.0]))
    kept, own = driving_landmarks(anim, blinks=True)
    assert not own and np.allclose(kept[1, 37], lm[1, 41])  # the animation's blink, no second one
    opened, own = driving_landmarks(anim, blinks=False)
    assert not own and np.allclose(opened[1, [37, 38, 43, 44]], lm[1, [37, 38, 43, 44]])
    old = SimpleNamespace(landmarks=lm, blink=None)  # an older animation: the renderer blinks
    assert driving_landmarks(old, blinks=True)[1] is True


def test_causal_upper_face_streams_like_its_offline_pass(example_speech):
    from talkinghead.audio.energy import frame_rms
    from talkinghead.audio.io import load_audio
    from talkinghead.models.expression import HEAD_SD, CausalUpperFace

    y, _ = load_audio(example_speech, sr=16000)
    n = int(len(y) / 16000 * 25)
    g = CausalUpperFace(fps=25, sr=16000, seed=3)
    ref = g.offline(y, n)
    e = np.concatenate([[0.0], frame_rms(y=y, sr=16000, fps=25, n_frames=n - 1)])
    rng = np.random.default_rng(1)
    parts, i = [], 0
    while i < n:  # any grouping of frames
        k = int(rng.integers(1, 9))
        parts.append(g.step(e[i : i + k]))
        i += k
    for name in ("rotation", "brow", "blink"):
        got = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_allclose(got, getattr(ref, name), atol=1e-6)
    # frame t does not depend on the audio after t's start
    y2 = y.copy()
    y2[16000 * 4 :] = 0
    ref2 = CausalUpperFace(fps=25, sr=16000, seed=3).offline(y2, n)
    np.testing.assert_allclose(ref2.rotation[:100], ref.rotation[:100], atol=1e-7)
    # a minute of it: blinks at about the offline rate, head drift at the offline scale
    long = CausalUpperFace(fps=25, sr=16000, seed=0).offline(np.tile(y, 8), 60 * 25)
    blinks = int(np.sum(np.diff((long.blink > 0.5).astype(int)) == 1))
    assert 8 <= blinks <= 30
    sd = long.rotation.std(axis=0)
    assert np.all(sd > 0.3 * min(HEAD_SD)) and np.all(sd < 3 * max(HEAD_SD))
    other = CausalUpperFace(fps=25, sr=16000, seed=4).offline(y, n)
    assert np.abs(other.rotation - ref.rotation).max() > 1e-3  # the seed matters


def test_one_head_generator_for_animations_and_bare_blendshapes(example_speech):
    from talkinghead.audio.energy import frame_rms
    from talkinghead.audio.io import load_audio
    from talkinghead.models.blendshape_bridge import procedural_head_motion
    from talkinghead.models.expression import upper_face_motion

    still = upper_face_motion(y=None, sr=None, fps=25.0, n_frames=120, seed=7).rotation
    np.testing.assert_array_equal(procedural_head_motion(120, 25.0, seed=7), still)
    y, _ = load_audio(example_speech, sr=16000)
    n = int(len(y) / 16000 * 25)
    e = frame_rms(y=y, sr=16000, fps=25.0, n_frames=n)
    spoken = upper_face_motion(y=y, sr=16000, fps=25.0, n_frames=n, seed=3).rotation
    np.testing.assert_array_equal(procedural_head_motion(n, 25.0, energy=e, seed=3), spoken)
    assert not np.array_equal(spoken, procedural_head_motion(n, 25.0, seed=3))  # the nods
