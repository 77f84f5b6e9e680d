"""The evaluation driver, baselines and report on real clips (tracked here) and a tiny corpus."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from talkinghead.cli.evaluate import register
from talkinghead.errors import InvalidArgumentError, TalkingHeadError
from talkinghead.evaluate import baselines as B
from talkinghead.evaluate import metrics as M
from talkinghead.evaluate.run import (
    BASELINES,
    EvalResult,
    baseline_predict_fn,
    evaluate,
    evaluate_clips,
    similarity_align,
    write_report,
)
from talkinghead.evaluate.truth import ClipTruth, truth_from_video

GRID = "rizkiarm__LipNet/evaluation/samples/GRID"
CLIPS = {  # GRID sentence codes decoded by the corpus grammar
    "bbaf2n": "bin blue at f two now",
    "brbk7n": "bin red by k seven now",
    "lbax4n": "lay blue at x four now",
    "swiz3n": "set white in z three now",
}


@pytest.fixture(scope="module")
def grid_truths(shared_data):
    pytest.importorskip("mediapipe")
    return [
        truth_from_video(shared_data / GRID / f"{k}.mpg", transcript=t, emotion="neutral", id=k)
        for k, t in CLIPS.items()
    ]


@pytest.fixture(scope="module")
def grid_result(grid_truths):
    return evaluate_clips(grid_truths, {b: baseline_predict_fn(b) for b in BASELINES})


def test_truth_tracked(grid_truths):
    for c in grid_truths:
        assert c.fps == 25.0 and c.n_frames == 75 and c.valid.mean() > 0.95
        assert c.sr == 16000 and abs(len(c.y) / c.sr - 3.0) < 0.05
        o = c.openness
        assert np.nanmax(o) > 0.08 and np.nanmax(o) > 4 * np.nanmin(o)  # it opens and closes


def test_baselines_on_real_speech(grid_result):
    agg = grid_result.aggregates()
    assert agg["energy"]["mouth_r"]["median"] > 0
    assert agg["phonetic"]["mouth_r"]["median"] > 0
    assert agg["truth_smoothed"]["mouth_r"]["median"] > 0.9
    assert agg["mean"]["mouth_r"]["median"] == 0.0  # constant predictor: r defined as 0
    # the truth against itself: perfect, in sync, as smooth as itself
    t = agg["truth"]
    assert t["mouth_r"]["median"] == pytest.approx(1.0)
    assert t["lag_ms"]["median"] == 0.0
    assert t["jitter"]["median"] == pytest.approx(1.0)
    assert t["landmark_rmse"]["median"] == pytest.approx(0.0, abs=1e-9)
    # smoothing removes acceleration energy
    assert agg["truth_smoothed"]["jitter"]["median"] < 1.0
    # three of the four sentences have /b/, /m/ or /p/ ("set white in z three now" has
    # none); real lips close on most of them
    assert agg["truth"]["bilabial_closure"]["n"] == 3
    assert agg["truth"]["bilabial_closure"]["median"] >= 0.5
    # the phonetic animator's landmarks are scored after similarity alignment
    assert 0 < agg["phonetic"]["lip_rmse"]["median"] < 0.3
    assert set(grid_result.landmark_errors) >= {"mean", "phonetic", "truth"}
    assert grid_result.landmark_errors["phonetic"].shape == (68,)


def test_report_written(grid_result, tmp_path):
    path = write_report(grid_result, tmp_path / "rep")
    text = path.read_text()
    assert "| energy | 4 |" in text and "mouth_open.png" in text
    for png in ("mouth_open.png", "landmark_error.png"):
        assert (tmp_path / "rep" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert len(d["clips"]) == 4 * len(BASELINES)
    assert d["aggregates"]["truth"]["mouth_r"]["median"] == pytest.approx(1.0)
    assert "neutral" in d["aggregates"]["energy"]["by_emotion"]
    assert not list((tmp_path / "rep").glob(".*part*"))  # no temporary files left


def test_mean_face_constant():
    lm = np.random.default_rng(0).normal(size=(30, 68, 2))
    p = B.mean_face(30, truth=lm)
    assert p.landmarks.shape == (30, 68, 2)
    np.testing.assert_allclose(p.landmarks[5], lm.mean(axis=0))
    assert M.mouth_corr(p.mouth_open, M.mouth_openness(lm)) == 0.0


def test_similarity_align_recovers_transform():
    rng = np.random.default_rng(2)
    true = rng.normal(size=(5, 68, 2)) * 50
    th = 0.3
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    pred = true @ R.T * 0.01 + [3.0, -7.0]  # normalised, rotated, shifted copy
    np.testing.assert_allclose(similarity_align(pred, true), true, atol=1e-9)


def _tiny_corpus(root, truth: ClipTruth, audio_path):
    from talkinghead._util.atomic import save_npz_atomic
    from talkinghead.corpora.manifest import Clip, Recording, write_jsonl

    save_npz_atomic(
        root / "arrays" / "a.npz",
        mesh=truth.mesh.astype(np.float32),
        landmarks68=truth.landmarks.astype(np.float32),
        valid=truth.valid,
    )
    rec = Recording(
        id="a", video=str(audio_path), audio=str(audio_path), fps=truth.fps,
        n_frames=truth.n_frames, has_audio=True, speaker="s1", emotion="neutral",
        transcript=CLIPS["bbaf2n"],
    )  # fmt: skip
    clip = Clip(id="a", recording="a", path="arrays/a.npz", n_frames=truth.n_frames, fps=truth.fps)
    write_jsonl(root / "recordings.jsonl", [rec])
    write_jsonl(root / "clips.jsonl", [clip])


def test_evaluate_corpus_and_cli(grid_truths, shared_data, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    _tiny_corpus(corpus, grid_truths[0], shared_data / GRID / "bbaf2n.mpg")
    res = evaluate("energy", corpus, split="all", baselines=False)
    assert res.systems == ["energy"] and len(res.rows) == 1
    assert res.rows[0]["speaker"] == "s1" and res.rows[0]["mouth_r"] > 0
    # a predict function: the truth delayed by 2 frames is 80 ms late
    res2 = evaluate(lambda c: np.roll(c.openness, 2), corpus, split="all", baselines=False)
    assert res2.rows[0]["lag_ms"] == 80.0
    with pytest.raises(TalkingHeadError):
        evaluate(tmp_path / "no_model", corpus, split="all", baselines=False)
    with pytest.raises(InvalidArgumentError, match="split"):
        evaluate("energy", corpus, split="nope")

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["evaluate", "phonetic", str(corpus), "--split", "all", "--no-baselines",
         "--report", str(tmp_path / "rep")]
    )  # fmt: skip
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "| phonetic | 1 |" in out and (tmp_path / "rep" / "report.md").is_file()


def test_evaluate_clips_plain_arrays():
    fps, n = 25.0, 100
    rng = np.random.default_rng(5)
    o = np.abs(np.convolve(rng.normal(size=n), np.hanning(7), mode="same"))
    lm = np.zeros((n, 68, 2))
    lm[:, 36], lm[:, 45] = [0, 0], [10, 0]
    lm[:, 66, 1] = o * 10
    clip = ClipTruth(id="x", fps=fps, valid=np.ones(n, bool), landmarks=lm)
    res = evaluate_clips([clip], {"same": [o], "late": [np.roll(o, 1)]}, with_phones=False)
    assert isinstance(res, EvalResult)
    same, late = res.rows
    assert same["mouth_r"] == pytest.approx(1.0) and late["lag_ms"] == 40.0
    assert np.isnan(same["bilabial_closure"])  # no phones, no audio


def test_model_predict_fn_reads_the_recipe_feature_set(tmp_path):
    # regression: trainer checkpoints name their recipe (meta["recipe"]), not the feature
    # set; an eskimez2018 model (128-d inputs) was fed the 40-d sakurai2018 features
    from talkinghead.evaluate.run import model_predict_fn
    from talkinghead.models.sequence import SequenceModel, SequenceModelConfig

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = SequenceModel(SequenceModelConfig(input_dim=128, output_dim=136, layers=["L8"]))
    model.meta = {"recipe": "eskimez2018"}
    model.save_pretrained(tmp_path / "model")
    T = 12
    rng = np.random.default_rng(0)
    npz = tmp_path / "clip.npz"
    np.savez(
        npz,
        audio_eskimez2018=rng.normal(size=(T, 128)).astype(np.float32),
        audio_sakurai2018=rng.normal(size=(T, 40)).astype(np.float32),
    )
    clip = ClipTruth(id="c", fps=25.0, valid=np.ones(T, bool),
                     landmarks=rng.normal(size=(T, 68, 2)), extra={"npz": str(npz)})  # fmt: skip
    out = model_predict_fn(tmp_path / "model")(clip)
    assert out.shape == (T, 68, 2)
    with np.load(npz) as z:
        want = model.predict(z["audio_eskimez2018"]).reshape(T, 68, 2)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
