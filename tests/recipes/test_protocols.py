"""The papers' protocols: splits on fixtures in each corpus layout, and a protocol run.

The layout fixtures are symlinks to one real GRID clip under the names each corpus uses
(SAVEE ``DC/a01.avi``, RAVDESS ``Actor_21/01-02-05-01-01-01-21.mp4``, GRID ``s12/x.mpg``)
scanned by the corpus recipes themselves, so the splits are the ones a real copy of the
corpus gets. The protocol run trains on a prepared slice of real GRID clips.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.recipes.protocols import (
    PROTOCOLS,
    get_protocol,
    grid_speaker_number,
    protocol_names,
)

SAMPLE = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"


def _sample(shared_data) -> Path:
    p = shared_data / SAMPLE
    if not p.is_file():
        pytest.skip(f"GRID sample {p} not found")
    return p


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(src, dst)


def test_sakurai_protocol_on_the_savee_layout_is_108_6_6_of_dc(shared_data, tmp_path):
    from talkinghead.corpora.savee import scan_savee

    src = _sample(shared_data)
    counts = {"n": 30, "a": 15, "d": 15, "f": 15, "h": 15, "sa": 15, "su": 15}  # DC's 120
    for spk in ("DC", "JK"):
        for code, n in counts.items():
            for i in range(1, n + 1):
                _link(src, tmp_path / spk / f"{code}{i:02d}.avi")
    recs = scan_savee(tmp_path)
    assert len(recs) == 240
    p = get_protocol("sakurai2018", "paper")
    sp = p.split(recs)
    assert [len(sp[k]) for k in ("train", "valid", "test")] == [108, 6, 6]
    assert all(i.startswith("DC/") for v in sp.values() for i in v)  # JK in no split
    assert not set(sp["train"]) & set(sp["test"]) and not set(sp["valid"]) & set(sp["test"])
    assert p.split(recs) == sp  # seeded: the same 6 + 6 every time
    assert (p.fps, p.sr, p.recipe_options, p.topologies) == (
        60.0, 44100, {"target": "aam"}, ("FBF", "BFF", "BBF"),
    )  # fmt: skip
    assert get_protocol("sakurai2018_baseline", "paper").split(recs) == sp
    with pytest.raises(InvalidArgumentError, match="speaker DC"):
        p.split([r for r in recs if r.speaker == "JK"])


def test_pham_protocol_on_the_ravdess_layout_is_actors_1_20_vs_21_24(shared_data, tmp_path):
    from talkinghead.corpora.ravdess import scan_ravdess

    src = _sample(shared_data)
    for a in range(1, 25):
        for ch in ("01", "02"):  # speech and song
            name = f"01-{ch}-05-01-01-01-{a:02d}.mp4"
            _link(src, tmp_path / f"Actor_{a:02d}" / name)
    recs = scan_ravdess(tmp_path)
    sp = get_protocol("pham2017", "paper").split(recs)
    actor = {r.id: int(r.speaker.split("_")[1]) for r in recs}
    assert {actor[i] for i in sp["test"]} == {21, 22, 23, 24} and len(sp["test"]) == 8
    assert {actor[i] for i in sp["train"] + sp["valid"]} == set(range(1, 21))
    assert len(sp["valid"]) == 2 and len(sp["train"]) == 38  # 1 in 20 validates
    channel = Counter(r.extra["channel"] for r in recs if r.id in set(sp["test"]))
    assert channel == {"speech": 4, "song": 4}
    p = get_protocol("pham2017", "paper")
    assert p.train_options["epochs"] == 300 and p.topologies == ("net1", "net2", "net3")
    assert p.baselines == ("svr",)


def test_eskimez_protocol_on_the_grid_layout_has_27_training_speakers(shared_data, tmp_path):
    from talkinghead.corpora.grid import scan_grid

    src = _sample(shared_data)
    speakers = [s for s in range(1, 35) if s != 21]  # GRID: s21 has no video
    for s in speakers:
        for name in ("bbaf2n", "lbax4n"):
            _link(src, tmp_path / f"s{s}" / f"{name}.mpg")
    recs = scan_grid(tmp_path)
    sp = get_protocol("eskimez2018", "paper").split(recs)
    spk = {r.id: r.speaker for r in recs}
    train_spk = {spk[i] for i in sp["train"] + sp["valid"]}
    test_spk = {spk[i] for i in sp["test"]}
    assert len(train_spk) == 27 and test_spk == {f"s{s}" for s in (29, 30, 31, 32, 33, 34)}
    assert not train_spk & test_spk
    p = get_protocol("eskimez2018", "paper")
    assert p.recipe_options == {"context_frames": 3, "lstm": "keras"}
    assert p.train_options["delay_ms"] == 40.0 and p.train_options["batch_size"] == 128
    # the hunt/ copies name their GRID speakers "GRID s12 (description)"
    assert grid_speaker_number("GRID s12 (man, glasses)") == 12 and grid_speaker_number("s3") == 3
    assert grid_speaker_number("LRS3 s1x") is None and grid_speaker_number(None) is None


def test_fan_protocol_takes_one_speaker(shared_data, tmp_path):
    from talkinghead.corpora.folder import scan_folder

    src = _sample(shared_data)
    for i in range(40):
        _link(src, tmp_path / "main" / f"clip{i:02d}.mp4")
    for i in range(3):
        _link(src, tmp_path / "other" / f"clip{i:02d}.mp4")
    recs = scan_folder(tmp_path)
    sp = get_protocol("fan2015", "paper").split(recs)
    assert [len(sp[k]) for k in ("train", "valid", "test")] == [36, 2, 2]
    assert all(i.startswith("main/") for v in sp.values() for i in v)
    assert get_protocol("fan2015", "paper").recipe_options == {"target": "aam"}


def test_every_paper_recipe_has_a_paper_protocol():
    from talkinghead.recipes import RECIPES

    assert set(PROTOCOLS) == set(RECIPES)
    for r in RECIPES:
        assert protocol_names(r) == ["paper"]
    with pytest.raises(InvalidArgumentError, match="protocol='other' must be one of"):
        get_protocol("sakurai2018", "other")


def _relabel(src: Path, dst: Path, speakers: dict) -> Path:
    """A copy of a prepared corpus' manifests with other speaker ids (arrays linked)."""
    dst.mkdir()
    os.symlink(src / "arrays", dst / "arrays")
    for name in ("clips.jsonl", "qc_report.json"):
        if (src / name).is_file():
            shutil.copy(src / name, dst / name)
    lines = []
    for line in (src / "recordings.jsonl").read_text().splitlines():
        r = json.loads(line)
        r["speaker"] = speakers[r["speaker"]]
        lines.append(json.dumps(r))
    (dst / "recordings.jsonl").write_text("\n".join(lines) + "\n")
    return dst


def test_train_with_the_paper_protocol_and_evaluate_its_test_split(
    tmp_path_factory, shared_data, tmp_path
):
    pytest.importorskip("torch")
    from prepared_slice import build_prepared_slice
    from talkinghead.cli import main
    from talkinghead.evaluate.run import evaluate

    base = build_prepared_slice(tmp_path_factory, shared_data)
    corpus = _relabel(
        base, tmp_path / "grid", {f"spk{i}": f"GRID s{i + 2} (slice)" for i in range(4)}
    )
    out = tmp_path / "m"
    argv = ["-q", "train", "eskimez2018", str(corpus), "-o", str(out), "--protocol", "paper",
            "--epochs", "1", "--threads", "1", "--batch-size", "4"]  # fmt: skip
    assert main(argv) == 0
    cfg = json.loads((out / "config.json").read_text())
    meta = cfg["meta"]
    assert meta["protocol"]["name"] == "paper" and meta["delay_ms"] == 40.0
    assert cfg["config"]["cell_activation"] == "sigmoid" and cfg["config"]["delay_frames"] == 1
    assert meta["recipe_state"]["context_frames"] == 3
    dev = meta["protocol"]["deviations"]
    assert any("GRID training speakers, not 27" in d for d in dev), dev
    assert any("Hz, not 44100" in d for d in dev), dev
    splits = json.loads((out / "splits.json").read_text())
    # 4 speakers: round(4 * 6 / 33) = 1 test speaker, the highest-numbered (s5)
    assert [i.split("/")[0] for i in splits["test"]] == ["spk3"]
    res = evaluate(out, corpus, split="test", baselines=False)
    assert {r["clip"].split("/")[0] for r in res.rows} == {"spk3"}
    # --splits: another run on the very same split (e.g. a comparison system)
    out2 = tmp_path / "m2"
    argv = ["-q", "train", "sakurai2018", str(corpus), "-o", str(out2), "--target", "shape",
            "--splits", str(out / "splits.json"), "--epochs", "1", "--threads", "1"]  # fmt: skip
    assert main(argv) == 0
    again = json.loads((out2 / "splits.json").read_text())
    assert {k: again[k] for k in ("train", "valid", "test")} == {
        k: splits[k] for k in ("train", "valid", "test")
    }
    assert "protocol" not in json.loads((out2 / "config.json").read_text())["meta"]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    argv = ["-q", "train", "sakurai2018", str(corpus), "-o", str(tmp_path / "m3"),
            "--splits", str(bad)]  # fmt: skip
    assert main(argv) == 2
    argv = ["-q", "train", "sakurai2018", str(corpus), "-o", str(tmp_path / "m4"),
            "--lstm", "torch"]  # fmt: skip
    assert main(argv) == 2  # --lstm is eskimez2018's
