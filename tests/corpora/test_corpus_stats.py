"""``corpus stats`` and the command handlers, through a parser built with ``register``."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from conftest import link
from talkinghead.cli import main
from talkinghead.cli.corpus import register
from talkinghead.corpora.stats import corpus_stats
from talkinghead.errors import MediaError


def _parser():
    p = argparse.ArgumentParser(prog="talkinghead")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_prepare_and_stats_commands(shared_data, tmp_path, capsys):
    src = shared_data / "Strong-AI-Lab__emotion/tests/test_data/data"
    corpus = tmp_path / "crema"
    for e in ("HAP", "NEU"):
        link(src / f"1001_DFA_{e}_XX.flv", corpus / f"1001_DFA_{e}_XX.flv")
    out = tmp_path / "out"
    args = _parser().parse_args(
        [
            "prepare",
            "crema-d",
            str(corpus),
            str(out),
            "--size",
            "160",
            "--features",
            "sakurai2018",
            "--max-frames",
            "40",
        ]
    )
    assert args.func(args) == 0
    assert "prepared 2 recordings" in capsys.readouterr().out

    st = corpus_stats(out)
    assert (st["clips"], st["ok"], st["speakers"]) == (2, 2, 1)
    assert st["emotions"] == {"happy": 1, "neutral": 1}
    assert abs(st["hours"] - 80 / 29.97 / 3600) < 1e-6
    assert st["frames"] == 80 and 0 < st["lip_aperture"]["p50"] < 0.5

    assert main(["corpus", "stats", str(out)]) == 0
    text = capsys.readouterr().out
    assert "clips: 2 (2 ok, 0 rejected" in text and "emotions: happy 1, neutral 1" in text
    assert (out / "stats.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "stats.json").read_text())["speakers"] == 1


def test_prepare_sr_keeps_the_papers_audio_rate(shared_data, tmp_path):
    # Sakurai / Pham / Eskimez analyse 44.1 kHz audio; the video keeps its own 29.97 fps
    src = shared_data / "Strong-AI-Lab__emotion/tests/test_data/data/1001_DFA_HAP_XX.flv"
    corpus = tmp_path / "crema"
    link(src, corpus / src.name)
    feats = {}
    for sr in (16000, 44100):
        out = tmp_path / f"out{sr}"
        argv = ["prepare", "crema-d", str(corpus), str(out), "--size", "160", "--features",
                "sakurai2018", "--max-frames", "30", "--sr", str(sr)]  # fmt: skip
        args = _parser().parse_args(argv)
        assert args.func(args) == 0
        rep = json.loads((out / "qc_report.json").read_text())
        assert rep["options"]["sr"] == sr
        clip = json.loads((out / "clips.jsonl").read_text().splitlines()[0])
        assert abs(clip["fps"] - 29.97) < 0.01
        with np.load(out / clip["path"]) as z:
            feats[sr] = z["audio_sakurai2018"]
    assert feats[16000].shape == feats[44100].shape == (30, 40)
    assert not np.allclose(feats[16000], feats[44100])  # analysed at another rate
    with pytest.raises(SystemExit):
        _parser().parse_args(["prepare", "grid", "a", "b", "--sr", "100"])


def test_command_errors(tmp_path, capsys):
    with pytest.raises(MediaError, match="recordings.jsonl is missing"):
        corpus_stats(tmp_path)
    assert main(["corpus", "stats", str(tmp_path)]) == 2
    assert "recordings.jsonl is missing" in capsys.readouterr().err
    assert main(["prepare", "grid", str(tmp_path / "nope"), str(tmp_path / "o")]) == 2
    assert "must be an existing directory" in capsys.readouterr().err
    assert main(["prepare", "grid", str(tmp_path), str(tmp_path / "o"), "--overlap", "3"]) == 2
    assert "--overlap=3 needs --window" in capsys.readouterr().err
    assert main(["prepare", "grid", str(tmp_path), str(tmp_path / "o"), "--features", "x"]) == 2
    assert "features=['x'] must name sets" in capsys.readouterr().err
