"""Full runs of each paper recipe on the shared clips: prepare, train, evaluate, report.

Two corpora are prepared into a work folder outside the repository (``--work``,
default ``/tmp/th_corpora``), from ``../shared/data`` (or ``$TALKINGHEAD_SHARED_DATA``):

* ``grid_s1``: GRID speaker s1 (one man), a seeded subset of ``grid_s1/video`` with its
  ``.align`` files (default 180 train + 20 valid + 50 test clips), for the
  single-speaker methods (Fan 2015, Sakurai 2018 and its phoneme + emotion baseline);
* ``multi``: the talking clips with speech of the shared data (the 11 LipNet GRID clips,
  video-retalking ``face/1,3,5``, the two SadTalker reference videos, ``uncrop_Obama``,
  the six CREMA-D clips; not the README's known-offset clips ``face/2``, ``face/4``,
  ``pose_source2``, ``mouth_source``) plus GRID s1 clips as extra training data, for the
  speaker-independent methods (Eskimez 2018, Pham 2017), split leave-speaker-out: the
  test speakers (the ten LipNet GRID speakers, the interview speakers of ``face/1``,
  ``face/5`` and Katie Hill, CREMA-D actor 1001) never occur in training.

Each corpus gets a ``splits.json`` (recording ids per split), read by the trainer and by
the evaluation. Then every recipe is trained (``talkinghead train``, seeded, a small
epoch budget) and scored on its test split; the baselines (mean face, energy, phonetic)
are scored once per corpus on the same clips. Results go to ``WORK/results/*.json`` and
``docs/recipes.md``. Usage::

    python bench/paper_recipes.py [--work DIR] [--stages prepare train evaluate docs]
                                  [--epochs N] [--only eskimez2018_d0 ...]

Each stage resumes: prepared corpora and finished models are reused. Pham's net2 and
net3 run only when named (``--only pham2017_net2 pham2017_net3``). Notes written below
the marker line of ``docs/recipes.md`` are kept when the page is rewritten.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))
PY = sys.executable
SEED = 0

LIPNET = "rizkiarm__LipNet/evaluation/samples"
#: LipNet GRID clip -> speaker (letters of the MANIFEST's speaker hints; swwp2s is G).
LIPNET_CLIPS = {
    "GRID/bbaf2n.mpg": "gridA", "GRID/brbk7n.mpg": "gridB", "GRID/lbax4n.mpg": "gridC",
    "GRID/lbbc2a.mpg": "gridD", "GRID/lrwp9a.mpg": "gridE", "GRID/lwbsza.mpg": "gridF",
    "GRID/pwij3p.mpg": "gridG", "GRID/sbia1a.mpg": "gridH", "GRID/sbwe5n.mpg": "gridI",
    "GRID/swiz3n.mpg": "gridJ", "id2_vcd_swwp2s.mpg": "gridG",
}  # fmt: skip
#: Other talking clips with speech -> speaker (face/3 looks like the same woman as AOC).
OTHER_CLIPS = {
    "OpenTalker__video-retalking/examples/face/1.mp4": "retalk_face1",
    "OpenTalker__video-retalking/examples/face/3.mp4": "aoc",
    "OpenTalker__video-retalking/examples/face/5.mp4": "retalk_face5",
    "OpenTalker__SadTalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4": "aoc",
    "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4": "katiehill",
    "tanshuai0219__EDTalk/test_data/uncrop_Obama.mp4": "obama",
    **{
        f"Strong-AI-Lab__emotion/tests/test_data/data/1001_DFA_{e}_XX.flv": "cremad1001"
        for e in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
    },
}
#: Speakers of the multi-speaker corpus that are only tested on.
MULTI_TEST_SPEAKERS = {
    *LIPNET_CLIPS.values(), "retalk_face1", "retalk_face5", "katiehill", "cremad1001"
}  # fmt: skip


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def write_json(path: Path, obj) -> None:
    from talkinghead._util.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(obj, indent=1) + "\n")


# --------------------------------------------------------------------------- prepare


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.is_symlink() and not dst.exists():
        dst.symlink_to(src)


def _grid_subset(n: int) -> list[str]:
    stems = sorted(p.stem for p in (DATA / "grid_s1" / "video").glob("*.mp4"))
    rng = random.Random(SEED)
    return sorted(rng.sample(stems, n))


def build_sources(work: Path, n_train: int, n_valid: int, n_test: int, n_extra: int) -> dict:
    """Symlink trees of the two corpora under ``work/src``; returns the chosen GRID stems."""
    from talkinghead.corpora.grid import decode_grid

    stems = _grid_subset(n_train + n_valid + n_test)
    rng = random.Random(SEED + 1)
    order = stems[:]
    rng.shuffle(order)
    parts = {
        "train": sorted(order[:n_train]),
        "valid": sorted(order[n_train : n_train + n_valid]),
        "test": sorted(order[n_train + n_valid :]),
    }
    g = work / "src" / "grid_s1" / "s1"
    for s in stems:
        _link(DATA / "grid_s1" / "video" / f"{s}.mp4", g / "video" / f"{s}.mp4")
        _link(DATA / "grid_s1" / "align" / f"{s}.align", g / "align" / f"{s}.align")
    m = work / "src" / "multi"
    for rel, spk in {**LIPNET_CLIPS, **OTHER_CLIPS}.items():
        src = DATA / (f"{LIPNET}/{rel}" if rel in LIPNET_CLIPS else rel)
        dst = m / spk / src.name
        _link(src, dst)
        if rel in LIPNET_CLIPS:
            code = src.stem.split("_")[-1]
            dst.with_suffix(".txt").write_text(" ".join(decode_grid(code)) + "\n")
    extra = parts["train"][:n_extra]  # s1 clips as extra multi-speaker training data
    for s in extra:
        dst = m / "s1" / f"{s}.mp4"
        _link(DATA / "grid_s1" / "video" / f"{s}.mp4", dst)
        dst.with_suffix(".txt").write_text(" ".join(decode_grid(s)) + "\n")
    return {"grid_parts": parts, "multi_extra": extra}


def _prepare(recipe: str, src: Path, out: Path, jobs: int, size: int) -> None:
    cmd = [PY, "-m", "talkinghead", "-q", "prepare", recipe, str(src), str(out),
           "-j", str(jobs), "--size", str(size)]  # fmt: skip
    log(" ".join(cmd[2:]))
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    log(f"prepared {out.name} in {time.perf_counter() - t0:.0f} s")


def stage_prepare(args) -> None:
    work = args.work
    chosen = build_sources(work, args.grid_train, args.grid_valid, args.grid_test, args.extra_s1)
    write_json(work / "sources.json", chosen)
    cg, cm = work / "grid_s1", work / "multi"
    _prepare("grid", work / "src" / "grid_s1", cg, args.jobs, args.size)
    _prepare("folder", work / "src" / "multi", cm, args.jobs, args.size)
    # ---- splits.json: recording ids per split
    from talkinghead.corpora.manifest import read_recordings

    recs = read_recordings(cg)
    by_code = {r.id.split("/")[-1]: r.id for r in recs}
    parts = chosen["grid_parts"]
    write_json(cg / "splits.json", {k: sorted(by_code[s] for s in v if s in by_code)
                                    for k, v in parts.items()})  # fmt: skip
    recs = read_recordings(cm)
    sp = {"train": [], "valid": [], "test": []}
    n_valid_s1 = max(1, len(chosen["multi_extra"]) // 10)
    valid_s1 = set(chosen["multi_extra"][-n_valid_s1:])
    for r in recs:
        if r.speaker in MULTI_TEST_SPEAKERS:
            sp["test"].append(r.id)
        elif r.speaker == "s1" and r.id.split("/")[-1] in valid_s1:
            sp["valid"].append(r.id)
        else:
            sp["train"].append(r.id)
    write_json(cm / "splits.json", {k: sorted(v) for k, v in sp.items()})
    for c in (cg, cm):
        subprocess.run([PY, "-m", "talkinghead", "-q", "corpus", "stats", str(c)],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip


# --------------------------------------------------------------------------- runs

#: Run name -> (recipe, corpus, topology, delay_ms). The single-speaker methods train on
#: GRID s1; the speaker-independent ones on the multi-speaker corpus.
RUNS = {
    "sakurai2018_FBF": ("sakurai2018", "grid_s1", "FBF", 0.0),
    "sakurai2018_BFF": ("sakurai2018", "grid_s1", "BFF", 0.0),
    "sakurai2018_BBF": ("sakurai2018", "grid_s1", "BBF", 0.0),
    "sakurai2018_baseline_BBF": ("sakurai2018_baseline", "grid_s1", "BBF", 0.0),
    "fan2015_FBB": ("fan2015", "grid_s1", "FBB", 0.0),
    "eskimez2018_d0": ("eskimez2018", "multi", "lstm4", 0.0),
    "eskimez2018_d40": ("eskimez2018", "multi", "lstm4", 40.0),
    "eskimez2018_d80": ("eskimez2018", "multi", "lstm4", 80.0),
    "pham2017_net1": ("pham2017", "multi", "net1", 0.0),
    "pham2017_net2": ("pham2017", "multi", "net2", 0.0),
    "pham2017_net3": ("pham2017", "multi", "net3", 0.0),
}
#: Epochs per run (a CPU budget of one to three minutes each on 2 cores).
EPOCHS = {
    "sakurai2018": 60,
    "sakurai2018_baseline": 30,
    "fan2015": 40,
    "eskimez2018": 40,
    "pham2017": 40,
}  # fmt: skip
_QUIET = {**os.environ, "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}


def _fit3d_available() -> bool:
    try:
        from talkinghead.face.fit3d import fit_blendshapes  # noqa: F401
    except ImportError:
        return False
    return True


#: Names of the landmark-based expression values of :func:`pham_landmark_targets`.
PHAM_FALLBACK_NAMES = ("lip_gap", "mouth_width", "outer_lip_height", "chin_nose")


def pham_landmark_targets(clip) -> np.ndarray:
    """Fallback Pham targets while ``face.fit3d.fit_blendshapes`` is not available.

    ``(T, 3 + 4)``: the head rotation (vector part of the unit quaternion of the tracked
    rotation vector, as the recipe's default) and four non-negative expression values
    measured on the 68 landmarks in inter-ocular units: inner-lip gap (62-66), mouth
    width (48-54), outer lip height (51-57), chin to nose base (8-33).
    """
    from talkinghead.recipes.pham2017 import rotvec_to_quaternion_vector
    from talkinghead.recipes.shape import fill_invalid

    valid = clip.valid
    lm = fill_invalid(clip.array("landmarks68"), valid)
    rot = fill_invalid(clip.array("rotation"), valid)
    iod = np.linalg.norm(lm[:, 36] - lm[:, 45], axis=1)
    iod = np.where(iod > 1e-6, iod, np.nan)

    def d(a, b):
        return np.linalg.norm(lm[:, a] - lm[:, b], axis=1) / iod

    expr = np.stack([d(62, 66), d(48, 54), d(51, 57), d(8, 33)], axis=1)
    y = np.concatenate([rotvec_to_quaternion_vector(rot), expr], axis=1).astype(np.float32)
    y[~valid] = np.nan
    return y


def _pham_recipe(topology_unused=None, target="auto"):
    from talkinghead.recipes.pham2017 import Pham2017

    if target == "fit3d" or (target == "auto" and _fit3d_available()):
        return Pham2017()
    return Pham2017(target_fn=pham_landmark_targets)


def _train_one(args, name: str) -> dict:
    recipe, corpus, topo, delay = RUNS[name]
    corpus_dir = args.work / corpus
    model_dir = args.work / "models" / name
    epochs = args.epochs or EPOCHS[recipe]
    t0 = time.perf_counter()
    if recipe == "pham2017":
        # the CLI cannot pass a target_fn: train through the same API as `talkinghead train`
        import torch

        from talkinghead.training.trainer import TrainConfig, result_to_dict, train

        torch.set_num_threads(args.threads)
        rec = _pham_recipe(target=args.pham_targets)
        cfg = TrainConfig(topology=topo, epochs=epochs, seed=SEED, num_threads=args.threads)
        res = result_to_dict(train(rec, corpus_dir, model_dir, cfg, log=log))
        res["targets"] = "fit3d" if rec.target_fn.__name__ == "fit3d_targets" else "landmarks"
    else:
        cmd = [PY, "-m", "talkinghead", "-q", "train", recipe, str(corpus_dir), "-o",
               str(model_dir), "--topology", topo, "--delay-ms", str(delay), "--epochs",
               str(epochs), "--seed", str(SEED), "--threads", str(args.threads)]  # fmt: skip
        log(" ".join(cmd[2:]))
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=_QUIET)
        res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t0
    res["epochs_budget"] = epochs
    lines = (model_dir / "training_log.jsonl").read_text().splitlines()
    ep = [json.loads(x) for x in lines]
    res["train_seconds"] = float(sum(e["seconds"] for e in ep))
    return res


def _train_svr(args) -> dict:
    """Pham's SVR baseline: linear SVR per output on the normalised 537-d features."""
    from talkinghead.audio.normalize import FeatureNormalizer
    from talkinghead.recipes.pham2017 import SVRBaseline
    from talkinghead.training.data import load_clips
    from talkinghead.training.trainer import prepare_examples

    t0 = time.perf_counter()
    rec = _pham_recipe(target=args.pham_targets)
    ex = prepare_examples(rec, load_clips(args.work / "multi", "train"))
    x = np.concatenate([e[0][e[2]] for e in ex])
    y = np.concatenate([e[1][e[2]] for e in ex])
    norm = FeatureNormalizer.fit([e[0] for e in ex])
    svr = SVRBaseline(kernel="linear", subsample=5).fit(norm.transform(x), y)
    d = args.work / "models" / "pham2017_svr"
    d.mkdir(parents=True, exist_ok=True)
    svr.save(d / "svr.json")
    norm.save(d / "normalizer.json")
    return {"model_dir": str(d), "train_frames": int(len(x)), "wall_s": time.perf_counter() - t0}


#: Runs left out unless named with ``--only`` (they do not fit the ~40 min budget on 2
#: shared cores: each Pham net fits 3D blendshape targets and trains 10+ min there).
OPTIONAL_RUNS = ("pham2017_net2", "pham2017_net3")


def _selected(args) -> list[str]:
    names = list(RUNS) + ["pham2017_svr"]
    if args.only:
        return [n for n in names if n in args.only]
    return [n for n in names if n not in OPTIONAL_RUNS]


def stage_train(args) -> None:
    out = args.work / "results" / "train.json"
    done = json.loads(out.read_text()) if out.is_file() else {}
    for name in _selected(args):
        if name in done and not args.force:
            log(f"{name}: trained already ({done[name].get('wall_s', 0):.0f} s)")
            continue
        log(f"training {name}")
        try:
            done[name] = _train_svr(args) if name == "pham2017_svr" else _train_one(args, name)
        except subprocess.CalledProcessError as e:
            log(f"{name} FAILED:\n{e.stderr[-3000:]}")
            done[name] = {"error": e.stderr[-1500:]}
        log(f"{name}: {json.dumps(done[name])[:300]}")
        write_json(out, done)


# --------------------------------------------------------------------------- evaluate


def _clipdata_by_id(corpus_dir: Path) -> dict:
    from talkinghead.training.data import load_clips

    return {c.id: c for c in load_clips(corpus_dir, "test")}


def _full_68(recipe, pts: np.ndarray) -> np.ndarray:
    """Predicted points (T, P) of a recipe -> (T, 68, 2) (missing points from its mean)."""
    T = len(pts)
    if pts.shape[1] == 136:
        return pts.reshape(T, 68, 2)
    ref = np.asarray(recipe.ref, np.float64)
    full = np.repeat(ref[None], T, axis=0)
    full[:, list(recipe.points)] = pts.reshape(T, -1, 2)
    return full


def run_predictor(name: str, model_dir: Path, corpus_dir: Path, args):
    """``(predict(clip_truth) -> Prediction, true_params(clip_truth))`` for a trained run."""
    from talkinghead.evaluate.baselines import Prediction
    from talkinghead.evaluate.metrics import mouth_openness
    from talkinghead.models.sequence import SequenceModel
    from talkinghead.recipes import get_recipe

    clips = _clipdata_by_id(corpus_dir)
    if name == "pham2017_svr":
        from talkinghead.audio.normalize import FeatureNormalizer
        from talkinghead.recipes.pham2017 import SVRBaseline

        svr = SVRBaseline.load(model_dir / "svr.json")
        norm = FeatureNormalizer.load(model_dir / "normalizer.json")
        recipe = _pham_recipe(target=args.pham_targets)

        def raw(c):
            return svr.predict(norm.transform(recipe.inputs(c))), None
    else:
        model = SequenceModel.from_pretrained(model_dir)
        meta = model.meta
        if meta["recipe"] == "pham2017":
            recipe = _pham_recipe(target=args.pham_targets)
        else:
            recipe = get_recipe(meta["recipe"], delay_ms=meta.get("delay_ms", 0.0))
        recipe.load_state(meta.get("recipe_state") or {})

        def raw(c):
            x = np.asarray(recipe.inputs(c), np.float32)
            return model.predict(x), model.predict(x, decode=False)

    def params_of(y, code):
        if recipe.name == "pham2017" or code is None:
            return y
        return code

    def true_params(ct):
        c = clips[ct.id]
        y, m = recipe.targets(c)
        y = np.asarray(y, np.float64)
        y[~np.asarray(m, bool)] = np.nan
        if recipe.name == "pham2017" or name == "pham2017_svr":
            return y
        tr = model.target_transform
        z = tr.encode(np.nan_to_num(y))
        z[~np.asarray(m, bool)] = np.nan
        return z

    def predict(ct):
        c = clips[ct.id]
        y, code = raw(c)
        c.clear()
        y = np.asarray(y, np.float64)
        p = params_of(y, code)
        if recipe.name == "pham2017":
            if y.shape[1] == 55:  # rotation + 52 ARKit weights
                return Prediction(mouth_openness(y[:, 3:]), params=p)
            return Prediction(y[:, 3], params=p)  # fallback: inner-lip gap
        lm = _full_68(recipe, y)
        return Prediction(mouth_openness(lm), landmarks=lm, params=p)

    return predict, true_params


def _summary(res) -> dict:
    """System -> metric -> median over clips (the papers' metrics: pooled over frames)."""
    agg = res.aggregates()
    return {
        s: {m: v.get("pooled", v["median"]) for m, v in a.items() if m != "by_emotion"}
        for s, a in agg.items()
    }


def stage_evaluate(args) -> None:
    """Score every trained run and the baselines on the test split of its corpus.

    One :func:`evaluate_clips` call per corpus scores the baselines and all the runs on
    the same clips (the phones of each clip are found once). Parameter MSE and CORR are
    computed here, on each run's own target space.
    """
    import torch

    from talkinghead.evaluate import paper_metrics as PM
    from talkinghead.evaluate.metrics import param_mse_per_dim
    from talkinghead.evaluate.run import (
        BASELINES,
        baseline_predict_fn,
        evaluate_clips,
        load_corpus_truths,
    )  # fmt: skip

    torch.set_num_threads(args.threads)
    rdir = args.work / "results"
    trained = json.loads((rdir / "train.json").read_text())
    out_path = rdir / "evaluate.json"
    out = json.loads(out_path.read_text()) if out_path.is_file() and not args.force else {}
    for corpus in ("grid_s1", "multi"):
        names = [n for n in _selected(args) if n in trained and "error" not in trained[n]
                 and (n.startswith(("eskimez", "pham")) == (corpus == "multi"))]  # fmt: skip
        names = [n for n in names if n not in out]
        base_key = f"baselines_{corpus}"
        if not names and base_key in out:
            continue
        truths = load_corpus_truths(args.work / corpus, split="test")
        log(f"{corpus}: scoring {names} and the baselines on {len(truths)} test clips")
        systems = {b: baseline_predict_fn(b) for b in BASELINES}
        extra = {}
        for name in names:
            predict, true_params = run_predictor(name, args.work / "models" / name,
                                                 args.work / corpus, args)  # fmt: skip
            cache = {ct.id: predict(ct) for ct in truths}
            preds = [np.asarray(cache[ct.id].params, np.float64) for ct in truths]
            trues = [true_params(ct) for ct in truths]
            from talkinghead.evaluate.metrics import corr_codes

            extra[name] = {
                "param_mse_per_dim": float(np.median([param_mse_per_dim(p, t) for p, t in
                                                      zip(preds, trues, strict=True)])),
                "pham_param_error": PM.pham_param_error(preds, trues),
                "corr_frame": corr_codes(preds, trues, mode="frame"),
                "corr_dimension": corr_codes(preds, trues, mode="dimension"),
            }  # fmt: skip
            if preds and preds[0].shape[1] == 55:  # Pham: rotation + 52 ARKit weights
                extra[name]["pham_rmse_3d_mm"] = PM.pham_landmark_rmse(preds, trues, dims=3)
                extra[name]["pham_rmse_2d"] = PM.pham_landmark_rmse(preds, trues, dims=2)
            systems[name] = lambda c, _c=cache: _c[c.id]
        res = evaluate_clips(truths, systems)
        summ = _summary(res)
        out[base_key] = {b: summ[b] for b in BASELINES}
        out[base_key]["n_clips"] = len(truths)
        out[base_key]["n_speakers"] = len({ct.speaker for ct in truths})
        for name in names:
            out[name] = {"model": {**summ[name], **extra[name]}}
            if args.cli_eval and name != "pham2017_svr":
                out[name].update(_cli_check(args, name, corpus, rdir))
            log(
                f"{name}: "
                + json.dumps(
                    {
                        k: out[name]["model"].get(k)
                        for k in ("mouth_r", "lip_rmse", "pham_param_error", "corr_frame")
                    }
                )
            )
        write_json(out_path, out)


def _cli_check(args, name: str, corpus: str, rdir: Path) -> dict:
    """The same checkpoint through ``talkinghead evaluate`` (without baselines)."""
    js = rdir / f"cli_{name}.json"
    cmd = [PY, "-m", "talkinghead", "-q", "evaluate", str(args.work / "models" / name),
           str(args.work / corpus), "--no-baselines", "--json", str(js)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, env=_QUIET)
    if r.returncode != 0:
        return {"cli_error": (r.stderr.strip().splitlines() or ["?"])[-1][:300]}
    agg = json.loads(js.read_text())["aggregates"]["model"]
    return {
        "cli_mouth_r": agg["mouth_r"]["median"],
        "cli_lip_rmse": agg["lip_rmse"]["median"],
        "cli_sakurai_corr": agg.get("sakurai_corr", {}).get("pooled"),
        "cli_pham_param_error": agg.get("pham_param_error", {}).get("pooled"),
    }


# --------------------------------------------------------------------------- docs

NOTES_MARKER = "<!-- notes: kept when bench/paper_recipes.py rewrites this page -->"
# The papers' own numbers are not printed in these tables (other data, other codes): the
# hand-written per-paper tables below the notes marker put them in their own column.
_COLS = (
    ("pham_param_error", "Pham param err", ".3g"),
    ("param_mse_per_dim", "param MSE/dim", ".3g"), ("corr_frame", "CORR", ".3f"),
    ("corr_dimension", "CORR dim", ".3f"),
    ("landmark_rmse", "LM RMSE/IOD", ".4f"), ("lip_rmse", "lip RMSE/IOD", ".4f"),
    ("lip_d1_mse", "lip d1 MSE", ".2e"), ("lip_d2_mse", "lip d2 MSE", ".2e"),
    ("eskimez_lip_mse", "Eskimez lip MSE", ".2e"),
    ("eskimez_lip_d1_mse", "Eskimez d1", ".2e"), ("eskimez_lip_d2_mse", "Eskimez d2", ".2e"),
    ("pham_rmse_3d_mm", "Pham 3D mm", ".2f"), ("pham_rmse_2d", "Pham 2D/head", ".3f"),
    ("mouth_r", "mouth r", ".3f"), ("lag_ms", "lag ms", "+.0f"),
    ("bilabial_closure", "bilabial", ".2f"), ("jitter", "jitter", ".2f"),
    ("silence_motion", "silence", ".3f"),
)  # fmt: skip


def _fmt(v, f: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return format(v, f)


def _corpus_facts(corpus_dir: Path) -> dict:
    from talkinghead.training.data import load_clips

    facts = {}
    for split in ("train", "valid", "test"):
        cl = load_clips(corpus_dir, split)
        facts[split] = {
            "clips": len(cl),
            "frames": int(sum(c.n_frames for c in cl)),
            "speakers": sorted({c.speaker for c in cl}),
            "fps": sorted({round(c.fps, 2) for c in cl}),
        }
    return facts


def stage_docs(args) -> None:
    rdir = args.work / "results"
    trained = json.loads((rdir / "train.json").read_text())
    ev = json.loads((rdir / "evaluate.json").read_text())
    L = [
        "# Paper recipes on the shared clips",
        "",
        "All numbers come from `python bench/paper_recipes.py` (prepare, train, evaluate, this "
        "page), seeded (seed 0), on the project's 2-core CPU machine shared with other jobs, "
        f"torch {__import__('torch').__version__} CPU, {time.strftime('%Y-%m-%d')}. Corpora are "
        "prepared with `talkinghead prepare ... -j 2 --size 256`, models trained with "
        "`talkinghead train` (an epoch budget of a few minutes per model) and scored on the "
        "held-out test split with the evaluation code of `talkinghead evaluate`. These are "
        "tiny-data, small-budget runs: they show that every recipe trains end to end and "
        "where it stands against the baselines, not the papers' accuracy.",
        "",
        "## Data",
        "",
        "| corpus | used by | split | clips | frames | fps | speakers |",
        "|---|---|---|---:|---:|---|---|",
    ]
    users = {"grid_s1": "Sakurai 2018 (+ baseline), Fan 2015", "multi": "Eskimez 2018, Pham 2017"}
    facts = {}
    for corpus in ("grid_s1", "multi"):
        facts[corpus] = f = _corpus_facts(args.work / corpus)
        for split in ("train", "valid", "test"):
            d = f[split]
            spk = ", ".join(d["speakers"])
            L.append(f"| {corpus} | {users[corpus]} | {split} | {d['clips']} | {d['frames']} | "
                     f"{', '.join(map(str, d['fps']))} | {spk} |")  # fmt: skip
    L += [
        "",
        "* `grid_s1`: a seeded subset of GRID speaker s1 (`grid_s1/video`, 250 of the 1000 "
        "sentences: 180 train, 20 valid, 50 test; 3 s each), one speaker as in the "
        "single-speaker papers; the test sentences are unseen, the speaker is not.",
        "* `multi`: leave-speaker-out. Test: the 10 LipNet GRID speakers (11 clips), "
        "video-retalking `face/1` and `face/5`, SadTalker Katie Hill and CREMA-D actor 1001 "
        "(6 emotions); none of them in training. Train: GRID s1 clips (the extra training "
        "data), `uncrop_Obama`, and the AOC clips (SadTalker + `face/3`); valid: held-out s1 "
        "clips. The training side has one frame rate (25 fps), which the Eskimez look-ahead "
        "needs. Left out as in the data README: `face/2`, `face/4`, `pose_source2`, "
        "`mouth_source` (audio offset from the face).",
        "",
        "## Training",
        "",
        "| run | recipe | corpus | topology | delay | epochs (best) | train s | frames/s | "
        "best valid loss |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    pham_note = (
        "`face.fit3d.fit_blendshapes` (rotation + 52 ARKit weights)"
        if trained.get("pham2017_net1", {}).get("targets") == "fit3d"
        else "the landmark fallback of the script (`pham_landmark_targets`: head rotation as "
        "a quaternion vector + 4 non-negative lip/jaw distances in IOD units), because "
        "`talkinghead.face.fit3d.fit_blendshapes` does not exist yet"
    )
    for name, (recipe, corpus, topo, delay) in RUNS.items():
        t = trained.get(name)
        if not t:
            continue
        if "error" in t:
            L.append(f"| {name} | {recipe} | {corpus} | {topo} | {delay:.0f} ms | failed | | | |")
            continue
        logs = [json.loads(x) for x in
                (Path(t["model_dir"]) / "training_log.jsonl").read_text().splitlines()]  # fmt: skip
        fps = float(np.median([e["train_frames_per_s"] for e in logs]))
        L.append(
            f"| {name} | {recipe} | {corpus} | {topo} | {delay:.0f} ms | {t['epochs_done']} "
            f"({t['best_epoch'] + 1}) | {t['train_seconds']:.0f} | {fps:.0f} | "
            f"{t['best_valid_loss']:.4f} |"
        )
    if "pham2017_svr" in trained and "error" not in trained["pham2017_svr"]:
        t = trained["pham2017_svr"]
        L.append(f"| pham2017_svr | Pham's SVR baseline (linear) | multi | - | 0 ms | - | "
                 f"{t['wall_s']:.0f} | {t['train_frames']} rows | - |")  # fmt: skip
    L += [
        "",
        "Epoch budgets (`EPOCHS` in the script): Sakurai 60, its baseline 30, Fan 40, "
        "Eskimez 40, Pham 40, each with the recipe's early stopping (patience 10; Pham 20); "
        "`epochs (best)` gives the epochs run and the best validation epoch, whose "
        "weights are evaluated. `train s` includes validation; frames/s is the median over "
        "epochs of training frames per second (one process, 2 torch threads, other jobs "
        "sharing the 2 cores, so the spread is wide). An epoch draws about one 3 s window "
        "per clip. The recipes' own hyper-parameters are used (Sakurai RMSprop 1e-3, "
        "dropout 0.5; Eskimez Adam 1e-3, dropout 0.2; Pham Adam 0.003 -> 0.0015 -> 0.0003; "
        "batch 16). Pham's targets: " + pham_note + ".",
        "",
        "## Results (test split, medians over clips)",
        "",
        "Papers' metrics (`talkinghead.evaluate.paper_metrics`, pooled over all frames of "
        "the test clips as the papers pool): Pham param err (Pham 2017 Table 1: squared "
        "error summed over the parameter dimensions, mean over frames) and, for reference, "
        "param MSE/dim (our older variant: mean over the dimensions, median over clips), "
        "both in each model's own training "
        "target space (the target transform fitted on the training targets, i.e. PCA codes "
        "over one global scale for Sakurai / Fan, the 136 eye-pinned, identity-normalised "
        "landmark coordinates over one global scale for Eskimez, the raw targets for Pham), "
        "CORR (Sakurai's Eq. 3: per-frame Pearson r across the code dimensions, averaged "
        "over all frames of all clips) and CORR dim (per clip and code dimension, Pearson r "
        "over time, averaged), Eskimez lip MSE (and d1 / d2: of its first / second "
        "differences) in the authors' space (first-frame eyes pinned 1 apart, identity "
        "removed), landmark RMSE over all 68 points and over the lips "
        "normalised by the true inter-ocular distance (IOD) after a per-frame similarity "
        "alignment on eyes and nose, and the MSE of the lips' first / second temporal "
        "differences (IOD units squared). Today's metrics: mouth-opening r (zero lag), "
        "lip-sync lag at the correlation peak within +-200 ms (+ = late), share of /p b m/ "
        "where the mouth closes, jitter (acceleration energy / the truth's, on standardised "
        "openness), mouth motion in silence / in speech. Baselines on the same clips: "
        "`mean` (the clip's own mean tracked face: knows the identity and pose, never "
        "moves; its r is 0 by definition), `energy` (audio envelope), `phonetic` (our "
        "phone recogniser + coarticulation animator), and two references: the truth "
        "smoothed over 120 ms and the truth itself.",
        "",
    ]
    for corpus in ("grid_s1", "multi"):
        L += [f"### {corpus}", ""]
        L.append("| system | " + " | ".join(c[1] for c in _COLS) + " |")
        L.append("|---|" + "---:|" * len(_COLS))
        for name, (_, c, _, _) in RUNS.items():
            if c != corpus or name not in ev:
                continue
            m = ev[name]["model"]
            L.append(f"| **{name}** | " + " | ".join(_fmt(m.get(k), f) for k, _, f in _COLS)
                     + " |")  # fmt: skip
        if corpus == "multi" and "pham2017_svr" in ev:
            m = ev["pham2017_svr"]["model"]
            L.append("| **pham2017_svr** | " + " | ".join(_fmt(m.get(k), f) for k, _, f in _COLS)
                     + " |")  # fmt: skip
        for b, m in ev.get(f"baselines_{corpus}", {}).items():
            if isinstance(m, dict):
                L.append(f"| {b} | " + " | ".join(_fmt(m.get(k), f) for k, _, f in _COLS)
                         + " |")  # fmt: skip
        L.append("")
    cli = {n: v for n, v in ev.items() if isinstance(v, dict) and ("cli_mouth_r" in v
           or "cli_error" in v)}  # fmt: skip
    if cli:
        L += ["Cross-check through the command line (`talkinghead evaluate MODEL_DIR CORPUS_DIR "
              "--no-baselines`, median mouth r / lip RMSE; pooled CORR, Pham param err):",
              ""]  # fmt: skip
        for n, v in cli.items():
            if "cli_error" in v:
                L.append(f"* {n}: fails: `{v['cli_error']}`")
            else:
                L.append(f"* {n}: {_fmt(v['cli_mouth_r'], '.3f')} / "
                         f"{_fmt(v['cli_lip_rmse'], '.4f')}; CORR "
                         f"{_fmt(v.get('cli_sakurai_corr'), '.3f')}, Pham param err "
                         f"{_fmt(v.get('cli_pham_param_error'), '.3g')}")  # fmt: skip
        L.append("")
    # hand-written notes below the marker survive a rerun
    old = args.docs.read_text() if args.docs.is_file() else ""
    L += [NOTES_MARKER, old.split(NOTES_MARKER, 1)[1].strip() if NOTES_MARKER in old else "", ""]
    from talkinghead._util.atomic import write_text_atomic

    write_text_atomic(args.docs, "\n".join(L) + "\n")
    log(f"wrote {args.docs}")


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/th_corpora"))
    p.add_argument("--stages", nargs="+", default=["prepare", "train", "evaluate", "docs"],
                   choices=["prepare", "train", "evaluate", "docs"])  # fmt: skip
    p.add_argument("--only", nargs="+", help="run names to train / evaluate (default: all)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--grid-train", type=int, default=180)
    p.add_argument("--grid-valid", type=int, default=20)
    p.add_argument("--grid-test", type=int, default=50)
    p.add_argument("--extra-s1", type=int, default=120, help="s1 clips in the multi corpus")
    p.add_argument("--epochs", type=int, help="epochs of every run (default: EPOCHS)")
    p.add_argument("--force", action="store_true", help="retrain / re-evaluate finished runs")
    p.add_argument(
        "--pham-targets",
        choices=["auto", "fit3d", "landmarks"],
        default="auto",
        help="pham2017 targets: fit3d blendshapes, the landmark fallback, or "
        "fit3d when available (auto)",
    )
    p.add_argument(
        "--no-cli-eval",
        dest="cli_eval",
        action="store_false",
        help="skip the check through `talkinghead evaluate`",
    )
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "recipes.md")
    args = p.parse_args(argv)
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    if "prepare" in args.stages:
        stage_prepare(args)
    if "train" in args.stages:
        stage_train(args)
    if "evaluate" in args.stages:
        stage_evaluate(args)
    if "docs" in args.stages:
        stage_docs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
