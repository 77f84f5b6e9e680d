"""The Python API: load_model / Model.from_pretrained, Animation.blendshapes and
.export, integer PCM scaling, dir(talkinghead), py.typed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import talkinghead as th
from talkinghead.errors import InvalidArgumentError, MediaError
from talkinghead.face.arkit import ARKIT_NAMES


@pytest.fixture(scope="module")
def speech16k(example_speech):
    return th.load_audio(example_speech, sr=16000)


def test_dir_lists_the_lazy_public_names():
    names = dir(th)
    for n in ("animate", "Animation", "load_audio", "load_model", "Model", "track_video"):
        assert n in names and n in th.__all__
    assert (Path(th.__file__).parent / "py.typed").is_file()


def test_model_is_reused_and_matches_animate(speech16k, tmp_path):
    y, sr = speech16k
    model = th.load_model("default")
    a = model(y, sr)
    b = model(y[: sr * 2], sr)  # the same loaded model, a second call
    ref = th.animate(y, sr=sr)
    np.testing.assert_array_equal(a.landmarks, ref.landmarks)
    assert b.n_frames == 50 and a.model == "default"
    # a checkpoint folder loads the same way (the shipped one, by path)
    from talkinghead.models.shipped import shipped_dir

    d = shipped_dir("default")
    c = th.Model.from_pretrained(d)(y, sr)
    np.testing.assert_array_equal(c.landmarks, ref.landmarks)
    assert c.model == d.name
    with pytest.raises(MediaError, match="checkpoint folder"):
        th.Model.from_pretrained(tmp_path)
    with pytest.raises(InvalidArgumentError, match="name='nope' must be one of"):
        th.load_model("nope")
    ph = th.load_model("phonetic")(y[: sr * 2], sr)
    assert ph.model == "phonetic" and ph.n_frames == 50


def test_integer_pcm_is_scaled(speech16k):
    y, sr = speech16k
    y = y[: sr * 2]
    i16 = np.round(y * 32767).astype(np.int16)
    i32 = i16.astype(np.int32) * 65536
    f = th.animate(i16.astype(np.float32) / 32768, sr=sr)
    for pcm in (i16, i32):
        a = th.animate(pcm, sr=sr)
        np.testing.assert_allclose(a.mouth_open, f.mouth_open, atol=1e-5)
    from talkinghead.inference import pcm_to_float

    assert pcm_to_float(np.array([0, 255, 128], np.uint8)).tolist() == [-1.0, 127 / 128, 0.0]
    with pytest.raises(InvalidArgumentError, match="audio.dtype"):
        pcm_to_float(np.array(["a"]))


def test_blendshapes_and_export(speech16k, tmp_path, example_speech):
    y, sr = speech16k
    anim = th.animate(y, sr=sr)
    bs = anim.blendshapes
    assert bs.shape == (anim.n_frames, 52) and bs.dtype == np.float32
    assert anim.blendshape_names == ARKIT_NAMES
    jaw = bs[:, ARKIT_NAMES.index("jawOpen")]
    # the jaw follows the mouth opening of the landmarks
    assert np.corrcoef(jaw, anim.mouth_open)[0, 1] > 0.8
    assert 0 <= bs.min() and bs.max() <= 1
    p = anim.export(tmp_path / "a.csv")  # format from the extension: Live Link Face CSV
    from talkinghead.export.arkit_csv import read_arkit_csv

    np.testing.assert_allclose(read_arkit_csv(p).weights, bs, atol=1e-6)
    g = anim.export(tmp_path / "a.glb", retarget="vrm", audio=example_speech)
    jlen = int.from_bytes(g.read_bytes()[12:16], "little")
    doc = json.loads(g.read_bytes()[20 : 20 + jlen])
    assert doc["animations"][0]["extras"]["targetNames"][:3] == ["aa", "ih", "ou"]
    with pytest.raises(InvalidArgumentError, match="must match the output's extension"):
        anim.export(tmp_path / "a.csv", "glb")
