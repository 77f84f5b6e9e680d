"""README "Use it on your avatar": run exactly its three commands on examples/speech.wav
and check what they write with the consumers' own rules."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from talkinghead.cli import main

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "tests" / "export" / "js"


def _commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use it on your avatar", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def _glb_json(path: Path) -> dict:
    data = path.read_bytes()
    n = int.from_bytes(data[12:16], "little")
    return json.loads(data[20 : 20 + n])


def test_the_three_readme_commands(tmp_path, monkeypatch, example_speech):
    cmds = _commands()
    assert len(cmds) == 3 and all(c[0] == "talkinghead" for c in cmds)
    (tmp_path / "examples").mkdir()
    shutil.copy(example_speech, tmp_path / "examples" / "speech.wav")
    monkeypatch.chdir(tmp_path)
    for c in cmds:
        assert main(["-q", *c[1:]]) == 0, c
    outs = {Path(c[c.index("-o") + 1]).suffix: tmp_path / c[c.index("-o") + 1] for c in cmds}

    # Ready Player Me: animation-only glb with RPM's morph names and the audio sidecar
    doc = _glb_json(outs[".glb"])
    extras = doc["animations"][0]["extras"]
    names = extras["targetNames"]
    assert {"jawOpen", "mouthSmile", "viseme_sil", "viseme_I", "viseme_O", "viseme_U"} <= set(names)
    assert (outs[".glb"].parent / extras["audio"]["uri"]).resolve() == (
        tmp_path / "examples" / "speech.wav"
    ).resolve()
    if shutil.which("node") and (JS / "node_modules").is_dir():
        r = subprocess.run(["node", str(JS / "validate.mjs"), str(outs[".glb"])],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        issues = json.loads(r.stdout)["issues"]
        assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"]
        r = subprocess.run(["node", str(JS / "bind_check.mjs"), str(outs[".glb"]), "2.0"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        res = json.loads(r.stdout)
        assert res["bound"] == len(names)
        assert set(names) <= set(res["samples"][0]["values"])  # every name reached the avatar

    # VRM 1.0: expression presets per frame, with some mouth movement
    d = json.loads(outs[".json"].read_text())
    assert d["names"][:5] == ["aa", "ih", "ou", "ee", "oh"] and d["fps"] == 25.0
    w = np.array(d["weights"])
    assert w.shape == (d["n_frames"], len(d["names"])) and abs(d["n_frames"] - 204) <= 1
    assert w[:, 0].max() > 0.3 and w[:, 0].min() < 0.1 and w.min() >= 0 and w.max() <= 1

    # MetaHuman / Unreal: a Live Link Face take at 60 fps timecode
    lines = outs[".csv"].read_text().splitlines()
    head = lines[0].split(",")
    assert head[:3] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft"] and len(head) == 63
    assert [r.split(",")[0] for r in lines[1:4]] == [
        "00:00:00:00.000", "00:00:00:02.400", "00:00:00:04.800",
    ]  # fmt: skip
    jaw = np.array([float(r.split(",")[2 + 17]) for r in lines[1:]])
    assert jaw.max() > 0.3 and len(lines) - 1 == d["n_frames"]


@pytest.mark.parametrize("line", [0, 1, 2])
def test_readme_commands_name_real_options(line):
    from talkinghead.cli import build_parser

    args = build_parser().parse_args(_commands()[line][1:])
    assert args.audio == "examples/speech.wav"
