from __future__ import annotations

import json

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError, MediaError
from talkinghead.export.data import (
    read_animation_json,
    read_animation_npz,
    write_animation_json,
    write_animation_npz,
)
from talkinghead.face.head3d import BlendshapeAnimation


@pytest.mark.parametrize("kind", ["json", "npz"])
def test_round_trip_exact(tmp_path, anim, kind):
    rng = np.random.default_rng(3)
    a = BlendshapeAnimation(
        fps=29.97,
        weights=anim.weights,
        rotation=anim.rotation,
        translation=rng.normal(size=(anim.n_frames, 3)) * 0.01,
    )
    lm = rng.normal(size=(anim.n_frames, 68, 2)).astype(np.float32)
    write, read = {
        "json": (write_animation_json, read_animation_json),
        "npz": (write_animation_npz, read_animation_npz),
    }[kind]
    d = read(write(tmp_path / f"a.{kind}", a, landmarks=lm))
    assert d.anim.fps == 29.97 and d.anim.names == a.names
    np.testing.assert_array_equal(d.anim.weights, a.weights)
    np.testing.assert_array_equal(d.anim.rotation, a.rotation)
    np.testing.assert_array_equal(d.anim.translation, a.translation)
    np.testing.assert_array_equal(d.landmarks, lm)


def test_json_layout_and_no_landmarks(tmp_path, anim):
    p = write_animation_json(tmp_path / "a.json", anim)
    obj = json.loads(p.read_text())
    assert obj["format"] == "talkinghead.animation" and obj["n_frames"] == anim.n_frames
    assert len(obj["names"]) == 52 and len(obj["weights"][0]) == 52
    assert "landmarks" not in obj and "translation" not in obj
    d = read_animation_json(p)
    assert d.landmarks is None and d.anim.translation is None


def test_errors(tmp_path, anim):
    with pytest.raises(InvalidArgumentError, match="landmarks.shape"):
        write_animation_npz(tmp_path / "a.npz", anim, landmarks=np.zeros((3, 68, 2)))
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(MediaError, match="not a talkinghead animation"):
        read_animation_json(tmp_path / "other.json")
    with pytest.raises(MediaError, match="does not exist"):
        read_animation_npz(tmp_path / "nope.npz")
