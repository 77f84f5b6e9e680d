from __future__ import annotations

import json

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.export import FORMATS, export, resolve_format
from talkinghead.export.arkit_csv import read_arkit_csv
from talkinghead.export.cues import read_rhubarb
from talkinghead.export.data import read_animation_npz


def test_registry_keys():
    assert set(FORMATS) == {
        "arkit-csv", "weights-csv", "glb", "json", "npz", "rhubarb-tsv", "rhubarb-json",
        "rhubarb-xml", "visemes", "azure-visemes", "polly-marks",
    }  # fmt: skip


@pytest.mark.parametrize(
    "path,fmt",
    [("a.csv", "arkit-csv"), ("a.CSV", "arkit-csv"), ("a.glb", "glb"), ("a.json", "json"),
     ("a.npz", "npz"), ("a.tsv", "rhubarb-tsv"), ("a.xml", "rhubarb-xml"),
     ("a.marks", "polly-marks")],
)  # fmt: skip
def test_format_from_the_extension(path, fmt):
    assert resolve_format(path) == fmt
    assert resolve_format(path, fmt) == fmt  # an explicit format that fits is kept
    assert resolve_format("a.mp4", extra={".mp4": None}) is None


def test_format_and_extension_must_agree():
    with pytest.raises(InvalidArgumentError, match=r"--format='glb' must match .*x\.csv"):
        resolve_format("x.csv", "glb", name="--format")
    with pytest.raises(InvalidArgumentError, match="must end in one of"):
        resolve_format("x.avi")
    with pytest.raises(InvalidArgumentError, match="format='fbx' must be one of"):
        resolve_format("x.fbx", "fbx")
    # the formats with several extensions
    assert resolve_format("v.json", "visemes") == "visemes"
    assert resolve_format("cues.txt", "rhubarb-tsv") == "rhubarb-tsv"
    assert resolve_format("a.json", "azure-visemes") == "azure-visemes"
    # a non-ARKit retarget turns .csv into the plain weights table
    assert resolve_format("a.csv", retarget="vrm") == "weights-csv"
    assert resolve_format("a.csv", retarget="arkit") == "arkit-csv"


def test_retarget_through_export(tmp_path, anim, hello_phones):
    p = export("weights-csv", tmp_path / "v.csv", anim=anim, retarget="vrm")
    lines = p.read_text().splitlines()
    assert lines[0].startswith("time,aa,ih,ou,ee,oh,blink") and len(lines) == anim.n_frames + 1
    jaw = anim.weights[:, anim.names.index("jawOpen")]
    lo = anim.weights[:, anim.names.index("mouthLowerDownLeft")]
    aa = np.array([float(r.split(",")[1]) for r in lines[1:]])
    np.testing.assert_allclose(aa, np.clip(jaw + 0.2 * lo + 0.2 * anim.weights[
        :, anim.names.index("mouthLowerDownRight")], 0, 1), atol=2e-6)  # fmt: skip
    d = json.loads(export("json", tmp_path / "m.json", anim=anim, retarget="metahuman").read_text())
    assert d["names"][:2] == ["EyeBlinkLeft", "EyeLookDownLeft"] and len(d["names"]) == 52
    v = export("visemes", tmp_path / "v2.csv", anim=anim, phones=hello_phones, retarget="rpm")
    assert v.read_text().splitlines()[0].endswith("viseme_E,viseme_I,viseme_O,viseme_U")
    with pytest.raises(InvalidArgumentError, match="must be blendshapes of the animation"):
        export("json", tmp_path / "x.json", anim=anim, retarget={"a": "noSuchShape"})


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
