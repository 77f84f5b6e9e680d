"""The distilled front end: shapes, checkpoints, and its use in the default model."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from talkinghead.audio.io import load_audio  # noqa: E402
from talkinghead.audio.whisper import frames_to_fps  # noqa: E402
from talkinghead.errors import CheckpointError, InvalidArgumentError  # noqa: E402
from talkinghead.models.default import DefaultModel  # noqa: E402
from talkinghead.models.student import SpeechStudent, StudentConfig, student_features  # noqa: E402


def _tiny(seed=0):
    torch.manual_seed(seed)
    cfg = StudentConfig(channels=16, dilations=[1, 2], out_dim=8)
    return SpeechStudent(cfg, np.arange(8, dtype=np.float32), np.full(8, 2.0, np.float32))


def test_encode_halves_the_frame_rate_and_undoes_the_standardisation():
    m = _tiny()
    mel = np.random.default_rng(0).standard_normal((80, 101)).astype(np.float32)
    out = m.encode(mel)
    assert out.shape == (50, 8)
    with torch.inference_mode():
        raw = m.net(torch.from_numpy(mel)[None])[0].numpy().T
    np.testing.assert_allclose(out, raw * 2.0 + np.arange(8), rtol=1e-5, atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="mel.shape"):
        m.encode(mel[:40])


def test_checkpoint_round_trip(tmp_path):
    m = _tiny()
    m.save_pretrained(tmp_path / "s", half=False)
    assert {p.name for p in (tmp_path / "s").iterdir()} == {"config.json", "model.safetensors"}
    m2 = SpeechStudent.from_pretrained(tmp_path / "s")
    mel = np.random.default_rng(1).standard_normal((80, 60)).astype(np.float32)
    np.testing.assert_array_equal(m.encode(mel), m2.encode(mel))  # float32: exact
    m.save_pretrained(tmp_path / "h")  # float16 by default: half the size, close outputs
    w16 = tmp_path / "h" / "model.safetensors"
    assert w16.stat().st_size < 0.6 * (tmp_path / "s" / "model.safetensors").stat().st_size
    out, ref = SpeechStudent.from_pretrained(tmp_path / "h").encode(mel), m.encode(mel)
    assert np.abs(out - ref).max() < 0.01 * ref.std()
    (tmp_path / "s" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        SpeechStudent.from_pretrained(tmp_path / "s")


def test_features_have_one_row_per_video_frame(example_speech):
    y, sr = load_audio(example_speech, sr=22050)
    for fps in (25.0, 29.97):
        n = int(round(len(y) / sr * fps))
        x = student_features(_tiny(), y=y, sr=sr, fps=fps, n_frames=n)
        assert x.shape == (n, 8) and x.dtype == np.float32 and np.isfinite(x).all()


def test_frames_to_fps_interpolates_between_encoder_frames():
    enc = np.arange(10, dtype=np.float32)[:, None]  # frame i at 0.02 i + 0.005 s
    out = frames_to_fps(enc, n_samples=16000 * 10 // 50, fps=100.0, n_frames=15)
    t = np.arange(15) / 100.0
    np.testing.assert_allclose(out[:, 0], np.clip((t - 0.005) / 0.02, 0, 9), atol=1e-5)


def test_default_model_with_a_student_saves_and_reloads(tmp_path, example_speech):
    st = _tiny()
    offsets = [-1, 0, 1]
    w = np.random.default_rng(2).standard_normal(8 * 3)
    m = DefaultModel(w, 0.1, np.zeros(8), np.ones(8), offsets, {"x": 1}, student=st)
    assert m.frontend == "student"
    m.save_pretrained(tmp_path / "d")  # the student inside is stored as float16
    m2 = DefaultModel.from_pretrained(tmp_path / "d")
    assert m2.frontend == "student"
    y, sr = load_audio(example_speech, sr=16000)
    a, b = m(y=y, sr=sr, fps=25.0), m2(y=y, sr=sr, fps=25.0)
    np.testing.assert_allclose(a.zscore, b.zscore, atol=0.02 * a.zscore.std())
    assert a.landmarks.shape == (int(round(len(y) / sr * 25)), 68, 2)


def test_fast_encode_matches_the_direct_numpy_network():
    from talkinghead.models.student import _forward_numpy

    torch.manual_seed(3)
    cfg = StudentConfig(channels=24, dilations=[1, 2, 4, 8, 16, 1], out_dim=8, aux_dim=1)
    m = SpeechStudent(cfg, np.zeros(8, np.float32), np.ones(8, np.float32))
    for T in (2, 3, 9, 700):
        mel = np.random.default_rng(T).standard_normal((80, T)).astype(np.float32)
        feats, aux = m.encode(mel, with_aux=True)
        want = _forward_numpy(m.weights, cfg, mel).T
        got = np.concatenate([feats, aux], axis=1)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())
