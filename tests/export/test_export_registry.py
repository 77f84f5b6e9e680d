from __future__ import annotations

import json

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.export import FORMATS, export
from talkinghead.export.arkit_csv import read_arkit_csv
from talkinghead.export.cues import read_rhubarb
from talkinghead.export.data import read_animation_npz


def test_registry_keys():
    assert set(FORMATS) == {
        "arkit-csv", "glb", "json", "npz", "rhubarb-tsv", "rhubarb-json", "rhubarb-xml",
        "visemes",
    }  # fmt: skip


def test_every_format(tmp_path, anim, grid_model, hello_phones):
    outs = {}
    for name, f in FORMATS.items():
        p = export(name, tmp_path / f"out_{name}{f.suffix}", anim=anim, phones=hello_phones,
                   model=grid_model, audio_duration=2.0)  # fmt: skip
        assert p.is_file() and p.stat().st_size > 0
        outs[name] = p
    assert read_arkit_csv(outs["arkit-csv"]).n_frames == anim.n_frames
    np.testing.assert_array_equal(read_animation_npz(outs["npz"]).anim.weights, anim.weights)
    cues = read_rhubarb(outs["rhubarb-tsv"])
    assert cues[-1].end == 2.0 and cues[-1].value == "X"
    assert read_rhubarb(outs["rhubarb-xml"]) == cues
    assert json.loads(outs["rhubarb-json"].read_text())["metadata"]["duration"] == 2.0
    assert outs["glb"].read_bytes()[:4] == b"glTF"
    assert len(outs["visemes"].read_text().splitlines()) == anim.n_frames + 1


def test_errors(tmp_path, anim):
    with pytest.raises(InvalidArgumentError, match="fmt='fbx' must be one of"):
        export("fbx", tmp_path / "x.fbx", anim=anim)
    with pytest.raises(
        InvalidArgumentError, match="phones=None must be given for format 'rhubarb-tsv'"
    ):
        export("rhubarb-tsv", tmp_path / "x.tsv", anim=anim)
    with pytest.raises(
        InvalidArgumentError, match="anim=None must be given for format 'arkit-csv'"
    ):
        export("arkit-csv", tmp_path / "x.csv")
    assert not list(tmp_path.iterdir())
