"""`talkinghead render MODEL_DIR AUDIO`: any recipe checkpoint driven by real speech.

The checkpoints are seeded, untrained models with each recipe's real structure (inputs,
heads, target coding, recipe state); the trained AAM checkpoint is rendered in
tests/recipes/test_sakurai_aam.py. The speech is a real GRID sentence.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from talkinghead.cli import main  # noqa: E402
from talkinghead.errors import InvalidArgumentError  # noqa: E402
from talkinghead.models.sequence import SequenceModel, TargetTransform  # noqa: E402
from talkinghead.recipes import get_recipe  # noqa: E402
from talkinghead.recipes.synthesis import synthesize  # noqa: E402
from talkinghead.video.io import probe_video  # noqa: E402

torch.set_num_threads(1)

SPEECH = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"  # "bin blue at f two now"


@pytest.fixture(scope="module")
def speech(shared_data):
    p = shared_data / SPEECH
    if not p.is_file():
        pytest.skip(f"GRID sample {p} not found")
    return p


def _checkpoint(path, name, input_dim, output_dim, *, state, transform=None, **kw):
    torch.manual_seed(0)
    r = get_recipe(name, **kw)
    model = SequenceModel(
        r.model_config(
            None, input_dim=input_dim, output_dim=output_dim, delay_frames=r.delay_frames(25.0)
        )  # fmt: skip
    )
    model.target_transform = transform
    model.meta = {"recipe": name, "fps": 25.0, "delay_ms": r.delay_ms, "recipe_state": state,
                  "sr": 16000}  # fmt: skip
    model.save_pretrained(path)
    return path


def _mean_shape():
    from talkinghead.face.normalize import neutral_face_68

    return np.asarray(neutral_face_68(), np.float64)


def test_render_an_eskimez_checkpoint_from_speech(tmp_path, speech):
    ms = _mean_shape()
    m = _checkpoint(
        tmp_path / "esk", "eskimez2018", 512, 136, delay_ms=40.0,
        state={"mean_shape": ms.tolist(), "context_frames": 3, "lstm": "keras"},
        transform=TargetTransform(mean=ms.reshape(-1), scale=np.full(136, 0.05)),
    )  # fmt: skip
    out = tmp_path / "esk.mp4"
    assert main(["-q", "render", str(m), str(speech), "-o", str(out)]) == 0
    from talkinghead.audio.io import load_audio

    y, sr = load_audio(speech, sr=16000)
    n = round(len(y) / sr * 25)  # one frame per 40 ms of speech (the track: 2.96 s)
    info = probe_video(out)
    assert info.n_frames == n and info.has_audio and n >= 70
    s = synthesize(m, y=y, sr=sr)
    assert s.kind == "landmarks" and s.landmarks.shape == (n, 68, 2)
    assert np.isfinite(s.landmarks).all() and s.landmarks.std(axis=0).max() > 0  # it moves


def test_render_a_pham_checkpoint_on_the_3d_head(tmp_path, speech):
    m = _checkpoint(
        tmp_path / "pham", "pham2017", 537, 55, state={},
        transform=TargetTransform(mean=np.zeros(55), scale=np.ones(55)),
        target_fn=lambda c: None,
    )  # fmt: skip
    from talkinghead.audio.io import load_audio

    y, sr = load_audio(speech, sr=16000)
    s = synthesize(m, y=y[:sr], sr=sr)  # 1 s
    assert s.kind == "blendshapes" and s.weights.shape == (25, 52) and s.rotation.shape == (25, 3)
    assert s.weights.min() >= 0 and s.weights.max() <= 1
    # quaternion vector part -> rotation vector: |rotvec| = 2 asin |v|
    from talkinghead.audio.features import compute_features

    x = compute_features("pham2017", y=y[:sr], sr=sr, fps=25.0, n_frames=25)
    raw = SequenceModel.from_pretrained(m).predict(x)
    np.testing.assert_allclose(
        np.linalg.norm(s.rotation, axis=1),
        2 * np.arcsin(np.clip(np.linalg.norm(raw[:, :3], axis=1), 0, 1)),
        rtol=1e-4, atol=1e-6,
    )  # fmt: skip
    import soundfile

    clip = tmp_path / "short.wav"
    soundfile.write(clip, y[:sr], sr)
    out = tmp_path / "pham.mp4"
    assert main(["-q", "render", str(m), str(clip), "-o", str(out), "--size", "96"]) == 0
    info = probe_video(out)
    assert info.n_frames == 25 and info.width == 96


def test_fan_checkpoint_needs_a_transcript_and_keeps_its_upper_face(tmp_path, speech):
    from talkinghead.recipes.shape import LOWER_FACE_68

    ref = _mean_shape()
    n = 2 * len(LOWER_FACE_68)
    m = _checkpoint(
        tmp_path / "fan", "fan2015", 124, n, target="shape",
        state={"ref": ref.tolist()},
        transform=TargetTransform(mean=ref[list(LOWER_FACE_68)].reshape(-1), scale=np.ones(n)),
    )  # fmt: skip
    from talkinghead.audio.io import load_audio

    y, sr = load_audio(speech, sr=16000)
    with pytest.raises(InvalidArgumentError, match="transcript"):
        synthesize(m, y=y, sr=sr)
    s = synthesize(m, y=y, sr=sr, transcript="bin blue at f two now")
    n = round(len(y) / sr * 25)
    assert s.kind == "landmarks" and s.landmarks.shape == (n, 68, 2)
    upper = [i for i in range(68) if i not in set(LOWER_FACE_68)]
    np.testing.assert_allclose(s.landmarks[:, upper], np.repeat(ref[None, upper], n, axis=0))
    rc = main(["-q", "render", str(m), str(speech), "-o", str(tmp_path / "f.mp4")])
    assert rc == 2  # no transcript: a clean error
