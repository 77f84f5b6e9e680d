"""Output formats on the command line: inferred from -o, refused when they disagree,
Rhubarb's flags, retargeting, and 'export' reading what 'animate' wrote."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from talkinghead.cli import main


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "talkinghead", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def params(tmp_path_factory, example_speech):
    """animate's .npz of examples/speech.wav (computed once for the module)."""
    out = tmp_path_factory.mktemp("p") / "speech.npz"
    assert main(["-q", "animate", str(example_speech), "-o", str(out)]) == 0
    return out


def test_conflicting_format_is_refused_before_any_work(tmp_path, example_speech):
    res = _run("animate", str(example_speech), "--format", "glb", "-o", str(tmp_path / "x.csv"))
    assert res.returncode == 2 and res.stderr.startswith("talkinghead: error: --format='glb'")
    assert "must match the output's extension" in res.stderr and "Traceback" not in res.stderr
    res = _run("animate", str(example_speech), "-f", "json", "--format", "rhubarb-tsv",
               "-o", str(tmp_path / "x.json"))  # fmt: skip
    assert res.returncode == 2 and "must agree with --format" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_infers_every_format_from_the_extension(tmp_path, params, example_speech):
    from talkinghead.export.arkit_csv import read_arkit_csv
    from talkinghead.export.cues import read_rhubarb
    from talkinghead.export.data import read_animation_json

    for ext in ("csv", "glb", "json", "tsv", "xml", "marks", "npz"):
        audio = ["--audio", str(example_speech)] if ext in ("tsv", "xml", "marks") else []
        out = str(tmp_path / f"e.{ext}")
        assert main(["-q", "export", str(params), "-o", out, *audio]) == 0, ext
    assert read_arkit_csv(tmp_path / "e.csv").names[0] == "eyeBlinkLeft"
    assert (tmp_path / "e.glb").read_bytes()[:4] == b"glTF"
    n = len(np.load(params)["landmarks"])
    assert read_animation_json(tmp_path / "e.json").anim.n_frames == n
    assert read_rhubarb(tmp_path / "e.tsv") == read_rhubarb(tmp_path / "e.xml")
    marks = [json.loads(x) for x in (tmp_path / "e.marks").read_text().splitlines()]
    assert marks[0] == {"time": 0, "type": "viseme", "value": "sil"} and len(marks) > 20
    # export reads back the npz (and json) that the npz/json formats wrote
    assert main(["-q", "export", str(tmp_path / "e.npz"), "-o", str(tmp_path / "b.csv")]) == 0
    assert main(["-q", "export", str(tmp_path / "e.json"), "-o", str(tmp_path / "c.csv")]) == 0
    a, b = read_arkit_csv(tmp_path / "e.csv"), read_arkit_csv(tmp_path / "b.csv")
    np.testing.assert_allclose(a.weights, b.weights, atol=1e-6)
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "c.csv").read_text()


def test_rhubarb_flags(tmp_path, example_speech):
    dialog = tmp_path / "dialog.txt"
    dialog.write_text("Hello, this is a test of the talking head.\n")
    out = tmp_path / "out.json"
    args = ["-q", "animate", str(example_speech), "-o", str(out), "-f", "json", "-d", str(dialog)]
    assert main([*args, "--extendedShapes", "GX", "--model", "phonetic"]) == 0
    d = json.loads(out.read_text())
    assert d["metadata"]["soundFile"] == str(example_speech.resolve())  # absolute, as Rhubarb
    shapes = {c["value"] for c in d["mouthCues"]}
    assert "H" not in shapes and shapes <= set("ABCDEFGX") and len(d["mouthCues"]) > 10
    xml = tmp_path / "out.xml"
    # a Rhubarb result is not face parameters: one clean error, nothing written
    assert main(["-q", "export", str(out), "-o", str(xml)]) == 2
    assert not xml.exists()


def test_retarget_and_export_options(tmp_path, params, example_speech):
    vrm = tmp_path / "vrm.csv"
    assert main(["-q", "export", str(params), "--retarget", "vrm", "-o", str(vrm)]) == 0
    head = vrm.read_text().splitlines()[0].split(",")
    assert head[:4] == ["time", "aa", "ih", "ou"] and len(head) == 19
    glb = tmp_path / "rpm.glb"
    args = ["-q", "export", str(params), "--retarget", "rpm", "--audio", str(example_speech)]
    assert main([*args, "-o", str(glb)]) == 0
    data = glb.read_bytes()
    jlen = int.from_bytes(data[12:16], "little")
    doc = json.loads(data[20 : 20 + jlen])
    extras = doc["animations"][0]["extras"]
    assert "viseme_U" in extras["targetNames"] and extras["audio"]["uri"].endswith("speech.wav")
    assert len(data) < 120_000  # animation only, no head
    only = tmp_path / "arkit_only.glb"
    assert main(["-q", "export", str(params), "--animation-only", "-o", str(only)]) == 0
    data = only.read_bytes()
    doc = json.loads(data[20 : 20 + int.from_bytes(data[12:16], "little")])
    prim = doc["meshes"][0]["primitives"][0]
    assert doc["accessors"][prim["attributes"]["POSITION"]]["count"] == 3  # the stub, no head
    assert doc["animations"][0]["extras"]["targetNames"][17] == "jawOpen"
    res = _run("export", str(params), "--retarget", "nosuch", "-o", str(tmp_path / "n.json"))
    assert res.returncode == 2 and "retarget mapping" in res.stderr


def test_rhubarb_xml_reads_back(tmp_path, params, example_speech):
    out = tmp_path / "cues.xml"
    assert main(["-q", "export", str(params), "-o", str(out), "--audio", str(example_speech)]) == 0
    root = ET.parse(out).getroot()
    cues = root.find("mouthCues").findall("mouthCue")
    assert root.tag == "rhubarbResult" and float(cues[-1].get("end")) == pytest.approx(
        8.14, abs=0.01
    )
