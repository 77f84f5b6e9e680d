"""Our default model against pip-installable lip-sync peers on the 21 real clips, in one run.

Systems, all scored like ``bench/eval_baselines.py`` (same clips, same truth: the Face Mesh
inner-lip gap; Pearson r at zero lag per clip, median over clips; lag = the shift of the
correlation peak within +-200 ms, + = late):

- ``default LOSO``: our default model (:mod:`talkinghead.models.default` on the distilled
  front end of :mod:`talkinghead.models.student`, ``--student``), its read-out refitted
  leave-one-speaker-out with the shipped recipe (:func:`talkinghead.recipes.default.
  fit_default_model`, 600 GRID s1 clips + the other speakers' clips), scored on its
  ``mouth_open`` output (gate + jaw mapping + landmarks, as ``animate`` returns it) and on
  its raw z-score. ``whisper LOSO``: the same on the Whisper tiny.en encoder's features.
  Needs the caches of the default-model experiments (``/tmp/th_default/feats`` +
  ``/tmp/th_default/cache``, ``--default-cache``); without them these rows are skipped.
- ``default shipped`` / ``whisper shipped``: ``animate(..., model="default" | "whisper")``
  with the shipped weights. NOT leave-one-speaker-out: those read-outs were trained on these
  21 clips (and on GRID s1).
- ``phonetic``: ``animate(..., model="phonetic")`` (pocketsphinx phones -> visemes).
- ``energy``: the audio energy envelope baseline.
- ``openfacefx``: OpenFaceFX (PyPI ``openfacefx``) audio-only energy mode
  (``generate_from_energy``), its jaw-open channel ``aa`` sampled at the frame times.
- ``pylipsync``: pylipsync (PyPI ``pylipsync``, uLipSync-style MFCC templates),
  ``PhonemeAnalyzer().extract_phoneme_segments`` at 100 Hz (default settings); mouth opening =
  the sum of the volume-weighted vowel targets (aa ee ih oh ou), averaged over the 10 ms
  values inside each output frame.

The peers run in their own virtualenvs under ``--work`` (created on first use with
``python3 -m venv`` + pip; pylipsync needs ``numpy<2.4`` and librosa), in a subprocess
(:mod:`talkinghead.evaluate.peers`) that writes each clip's openness as ``.npy``. A peer that
cannot be installed is reported and skipped.

Jitter ratio: acceleration energy of the prediction over that of the tracked real mouth, each
divided by its standard deviation first (:func:`talkinghead.evaluate.metrics.jitter_ratio`;
scale-free, so peers in other units compare; median over clips; < 1: smoother than the real
face).

Second table: the phonetic animator with and without the GRID transcript (forced
alignment) on the 11 GRID clips, with the /p b m/ closure rate on the aligned phones.

Not a test. Usage::

    python bench/peers.py [--work /tmp/th_peers] [--default-cache /tmp/th_default]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from talkinghead.evaluate.peers import PEERS, run_peer

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))


# ----------------------------------------------------------------------------- our side
def load_truths(work: Path) -> list[dict]:
    """The 21 clips of eval_baselines (truth_from_video), cached under ``work/truth``."""
    from talkinghead._util.atomic import save_npz_atomic
    from talkinghead.corpora.tsv import grid_transcript
    from talkinghead.evaluate.clips import EVAL_CLIPS

    out = []
    for rel in EVAL_CLIPS:
        p = DATA / rel
        cache = work / "truth" / f"{p.stem}.npz"
        if not cache.is_file():
            from talkinghead.evaluate.truth import truth_from_video

            audio = p.with_suffix(".wav") if p.with_suffix(".wav").is_file() else None
            c = truth_from_video(p, audio=audio, id=p.stem)
            save_npz_atomic(cache, openness=c.openness, valid=c.valid, fps=c.fps, y=c.y, sr=c.sr)
        with np.load(cache) as z:
            d = {k: z[k] for k in z.files}
        out.append(
            dict(
                id=p.stem,
                fps=float(d["fps"]),
                n_frames=len(d["valid"]),
                openness=d["openness"].astype(np.float64),
                valid=d["valid"].astype(bool) & np.isfinite(d["openness"]),
                y=d["y"].astype(np.float32),
                sr=int(d["sr"]),
                transcript=grid_transcript(p) if p.suffix == ".mpg" else None,
            )
        )
    return out


def default_loso(
    clips: list[dict], cache_root: Path, work: Path, student_dir: Path | None = None
) -> dict | None:
    """Leave-one-speaker-out predictions of the default recipe: {id: (mouth_open, zscore)}.

    With ``student_dir`` the features come from that distilled front end
    (:mod:`talkinghead.models.student`) instead of the Whisper encoder.
    """
    feats, lab = cache_root / "feats", cache_root / "cache"
    if not (feats / "eval__bbaf2n.npz").is_file():
        return None
    student = None
    if student_dir is not None:
        from talkinghead.models.student import SpeechStudent, student_features

        student = SpeechStudent.from_pretrained(student_dir)
    from talkinghead._util.atomic import save_npz_atomic
    from talkinghead.audio.phones import align_phones
    from talkinghead.evaluate.clips import EVAL_SPEAKERS as SPEAKER
    from talkinghead.recipes.default import TrainClip, fit_default_model

    if student is None:
        out_dir = work / "loso"
    else:  # one cache per student checkpoint
        import hashlib

        h = hashlib.sha1((Path(student_dir) / "model.safetensors").read_bytes()).hexdigest()[:10]
        out_dir = work / f"loso_student_{h}"
    done = {c["id"]: out_dir / f"{c['id']}.npz" for c in clips}
    if not all(p.is_file() for p in done.values()):
        pool = []
        for f in sorted(feats.glob("*.npz")):
            kind, stem = f.stem.split("__", 1)
            with np.load(f) as zf, np.load(lab / f.name) as zl:
                spk = SPEAKER.get(stem, stem) if kind == "eval" else "grid_s1"
                x = zf["w_short"]
                if student is not None:
                    x = student_features(student, y=zl["y"], sr=int(zl["sr"]),
                                         fps=float(zl["fps"]), n_frames=len(x))  # fmt: skip
                pool.append(
                    TrainClip(stem, spk, float(zl["fps"]), x, zl["openness"],
                              zl["valid"] & np.isfinite(zl["openness"]))
                )  # fmt: skip
        spk_of = {c["id"]: SPEAKER.get(c["id"], c["id"]) for c in clips}
        for spk in sorted(set(spk_of.values())):
            todo = [c for c in clips if spk_of[c["id"]] == spk and not done[c["id"]].is_file()]
            if not todo:
                continue
            t0 = time.perf_counter()
            m = fit_default_model([o for o in pool if o.speaker != spk], student=student)
            for c in todo:
                kw = dict(y=c["y"], sr=c["sr"], fps=c["fps"], n_frames=c["n_frames"])
                res = m(**kw)
                extra = {}
                if c["transcript"]:  # the same model with the transcript's aligned phones
                    ph = align_phones(y=c["y"], sr=c["sr"], transcript=c["transcript"])
                    extra["mouth_open_tr"] = m(**kw, phones=ph).mouth_open
                save_npz_atomic(done[c["id"]], mouth_open=res.mouth_open, zscore=res.zscore,
                                **extra)  # fmt: skip
            print(f"  LOSO fold {spk}: {len(todo)} clip(s), {time.perf_counter() - t0:.0f} s",
                  flush=True)  # fmt: skip
    out = {}
    for c in clips:
        with np.load(done[c["id"]]) as z:
            tr = z["mouth_open_tr"] if "mouth_open_tr" in z.files else None
            out[c["id"]] = (z["mouth_open"], z["zscore"], tr)
    return out


def score(c: dict, pred) -> tuple[float, float]:
    from talkinghead.evaluate.metrics import mouth_corr, sync_offset

    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    if len(p) != c["n_frames"]:
        raise ValueError(f"{c['id']}: prediction has {len(p)} frames, truth {c['n_frames']}")
    r = mouth_corr(p, c["openness"], valid=c["valid"])
    lag, _ = sync_offset(p, c["openness"], fps=c["fps"], valid=c["valid"])
    return r, lag


def _jitter(pred, c: dict) -> float:
    """Scale-free jitter ratio: acceleration energy of the prediction over the real mouth's,
    both divided by their standard deviation (so z-scores and peers' units compare)."""
    from talkinghead.evaluate.metrics import jitter_ratio

    p = np.asarray(pred, np.float64)
    t = np.asarray(c["openness"], np.float64)
    v = c["valid"] & np.isfinite(t) & np.isfinite(p)
    sp, st = np.std(p[v]), np.std(t[v])
    if sp == 0 or st == 0:
        return math.nan
    return jitter_ratio(p / sp, t / st, valid=v)


def bilabial(pairs) -> tuple[float, int]:
    """Pooled /p b m/ closure over (prediction, phones, fps) triples."""
    from talkinghead.evaluate.metrics import bilabial_closure_rate

    hit = n = 0
    for pred, phones, fps in pairs:
        rate, k = bilabial_closure_rate(np.asarray(pred, float), phones, fps=fps)
        if k:
            hit += rate * k
            n += k
    return (hit / n if n else math.nan), n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/th_peers", help="venvs, caches and predictions")
    ap.add_argument("--default-cache", default="/tmp/th_default",
                    help="feature caches of the default-model experiments (for LOSO)")  # fmt: skip
    ap.add_argument("--student", default=str(REPO / "src/talkinghead/data/default_fast/student"),
                    help="distilled front end for the 'default-fast LOSO' rows")  # fmt: skip
    args = ap.parse_args(argv)
    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1
    import soundfile as sf

    from talkinghead.audio.phones import align_phones
    from talkinghead.evaluate.baselines import energy_predict
    from talkinghead.inference import animate

    work = Path(args.work)
    t0 = time.perf_counter()
    clips = load_truths(work)
    print(f"truth for {len(clips)} clips in {time.perf_counter() - t0:.0f} s", flush=True)
    for c in clips:  # 16-bit PCM wavs for the peers (OpenFaceFX reads only that)
        c["wav"] = str(work / "wav" / f"{c['id']}.wav")
        if not Path(c["wav"]).is_file():
            Path(c["wav"]).parent.mkdir(parents=True, exist_ok=True)
            sf.write(c["wav"], c["y"], c["sr"], subtype="PCM_16")

    preds: dict[str, dict] = {}
    notes: dict[str, str] = {}
    t0 = time.perf_counter()
    loso = default_loso(clips, Path(args.default_cache), work)
    if loso is None:
        notes["default LOSO"] = f"skipped: no feature caches under {args.default_cache}"
    else:
        preds["whisper LOSO (mouth_open)"] = {k: v[0] for k, v in loso.items()}
        preds["whisper LOSO (z-score)"] = {k: v[1] for k, v in loso.items()}
        if Path(args.student, "config.json").is_file():
            fast = default_loso(clips, Path(args.default_cache), work, Path(args.student))
            preds["default LOSO (mouth_open)"] = {k: v[0] for k, v in fast.items()}
            preds["default LOSO (z-score)"] = {k: v[1] for k, v in fast.items()}
        else:
            notes["default LOSO"] = f"skipped: no student at {args.student}"
    print(f"LOSO in {time.perf_counter() - t0:.0f} s", flush=True)
    kw = lambda c: dict(sr=c["sr"], fps=c["fps"], n_frames=c["n_frames"])  # noqa: E731
    preds["default shipped (NOT LOSO)"] = {
        c["id"]: animate(c["y"], model="default", **kw(c)).mouth_open for c in clips
    }
    preds["whisper shipped (NOT LOSO)"] = {
        c["id"]: animate(c["y"], model="whisper", **kw(c)).mouth_open for c in clips
    }
    preds["phonetic"] = {
        c["id"]: animate(c["y"], model="phonetic", **kw(c)).mouth_open for c in clips
    }
    preds["energy"] = {
        c["id"]: energy_predict(y=c["y"], sr=c["sr"], fps=c["fps"], n_frames=c["n_frames"])
        .mouth_open for c in clips
    }  # fmt: skip
    for name in PEERS:
        t1 = time.perf_counter()
        p, why = run_peer(name, clips, work)
        if p is None:
            print(f"peer {name} skipped: {why}", flush=True)
            notes[name] = f"skipped: {why}"
        else:
            preds[name] = p
            print(f"peer {name}: {why}, ran in {time.perf_counter() - t1:.0f} s", flush=True)

    grid = [c for c in clips if c["transcript"]]
    phones = {c["id"]: align_phones(y=c["y"], sr=c["sr"], transcript=c["transcript"]) for c in grid}
    ref = "default LOSO (mouth_open)" if "default LOSO (mouth_open)" in preds else (
        "default shipped (NOT LOSO)")  # fmt: skip
    scores = {s: {c["id"]: score(c, p[c["id"]]) for c in clips} for s, p in preds.items()}

    print("\n| clip | " + " | ".join(preds) + " |")
    print("|---|" + "---|" * len(preds))
    for c in clips:
        cells = [f"{scores[s][c['id']][0]:.3f}" for s in preds]
        print(f"| {c['id']} | " + " | ".join(cells) + " |")
    refs = [ref] + (["whisper LOSO (mouth_open)"] if loso is not None else [])
    print(
        "\n| system | clips | median r | mean r | median lag (ms) | /p b m/ closed (GRID) "
        "| median jitter ratio | " + " | ".join(f"clips where {x} r is higher" for x in refs) + " |"
    )
    print("|---|---|---|---|---|---|---|" + "---|" * len(refs))
    for s, p in preds.items():
        r = np.array([scores[s][c["id"]][0] for c in clips])
        lag = np.array([scores[s][c["id"]][1] for c in clips])
        b, nb = bilabial((p[c["id"]], phones[c["id"]], c["fps"]) for c in grid)
        jit = np.nanmedian([_jitter(p[c["id"]], c) for c in clips])
        wins = []
        for x in refs:
            rr = np.array([scores[x][c["id"]][0] for c in clips])
            wins.append("-" if s == x else f"{int(np.sum(rr > r))}/{len(clips)}")
        print(
            f"| {s} | {len(clips)} | {np.nanmedian(r):.3f} | {np.nanmean(r):.3f} | "
            f"{np.nanmedian(lag):+.0f} | {b:.2f} (n={nb}) | {jit:.2f} | " + " | ".join(wins) + " |"
        )
    for s, why in notes.items():
        print(f"| {s} | - | {why} | | | | | |")

    # What a transcript buys: each model with vs without the GRID sentence.
    print(f"\nTranscript gain on the {len(grid)} GRID clips")
    print("| system | median r | mean r | median lag (ms) | /p b m/ closed "
          "| clips where r is higher with transcript |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    ptr = {
        c["id"]: animate(c["y"], model="phonetic", transcript=c["transcript"], **kw(c)).mouth_open
        for c in grid
    }
    rows = {"phonetic, no transcript": preds["phonetic"], "phonetic + transcript": ptr}
    partner = {"phonetic, no transcript": "phonetic + transcript"}
    if "default LOSO (mouth_open)" in preds:
        rows["default LOSO, no transcript"] = preds["default LOSO (mouth_open)"]
        rows["default LOSO + transcript"] = {c["id"]: fast[c["id"]][2] for c in grid}
        partner["default LOSO, no transcript"] = "default LOSO + transcript"
    sc = {s: [score(c, p[c["id"]]) for c in grid] for s, p in rows.items()}
    for s, p in rows.items():
        r = np.array([x[0] for x in sc[s]])
        lag = np.array([x[1] for x in sc[s]])
        b, nb = bilabial((p[c["id"]], phones[c["id"]], c["fps"]) for c in grid)
        wins = "-"
        if s in partner:
            with_tr = np.array([x[0] for x in sc[partner[s]]])
            wins = f"{int(np.sum(with_tr > r))}/{len(grid)}"
        print(f"| {s} | {np.median(r):.3f} | {np.mean(r):.3f} | {np.median(lag):+.0f} | "
              f"{b:.2f} (n={nb}) | {wins} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
