"""Train the mouth model (issue 12): prepared clips -> cached features -> network -> checkpoint.

Reads one or more ``talkinghead prepare`` output folders (``clips.jsonl`` with status "ok",
``recordings.jsonl``, ``arrays/*.npz``), drops every clip of the held-out test side
(``--split``: a JSON file ``{"test": [clip or recording ids], "val": [...]}`` or with
``"train"`` listing the training side; clip ids, recording ids and ``speaker:<id>``
entries are all understood), caches front-end features and measured DOFs per clip under
``--cache`` (reused), trains :class:`talkinghead.models.mouth.MouthModel` on the training
side (resumable: ``--work/last``), calibrates on the validation clips (carved from the
training side, by speaker), prints per-DOF validation r, and saves the checkpoint.

Usage::

    python scripts/train_mouth.py --prepared /work/prepared/hunt /work/prepared/old \
        --out src/talkinghead/data/mouth_v2 [--frontend student|whisper|mel|causal]
        [--lookahead N] [--steps 3000] [--channels 96] [--seed 0]
        [--train-only /work/prepared/grid_s1 [--train-only-share 0.3]] [--val-from CKPT|IDS.json]
        [--exclude-clips ID ...] [--dof-weights 2,1.5,.5,.5,.5,.5] [--balance speaker]
        [--open-calibration] [--loss mse|corr|mse+corr] [--calibration quantile|affine|K,...]
        [--ensemble K] [--close-weight W]

``--close-weight W`` (issue 12, /p b m/): the opening's squared error weighs ``1 + W`` on the
frames where the tracked mouth is closed inside speech (``recipes.mouth.closed_50hz``: the
lowest 15 % of the clip's opening range, the evaluation's closed-frame rule); 0 (default)
leaves the recipe unchanged, bit for bit.

``--ensemble K`` trains the recipe K times (seeds ``seed`` .. ``seed + K - 1``, each
resumable under ``--work/mI``) and ships one model averaging their outputs (offline, or
causal with ``--lookahead``: the server streams every member).

``--add-members CKPT ...`` adds the networks of other checkpoints of the same architecture
(e.g. the recipe trained without ``--train-only``) to the ensemble, each reading the inputs
through its own standardisation; calibration and ``prior_blend`` are then fitted for the whole.

``--train-only`` folders add training clips that never enter validation (GRID s1: one
speaker, 1000 clips); ``--val-from`` reuses a checkpoint's validation clips (and keeps
their people out of training) so that variants are compared on the same clips.

The streaming variant (``talkinghead serve``, ``data/mouth_v2_causal``): the same recipe on
the causal default model's trunk, causal convolutions and a look-ahead of N 20 ms frames,
the causal model's head of that look-ahead as the prior::

    python scripts/train_mouth.py --prepared ... --frontend causal --lookahead 2 --prior \
        --out src/talkinghead/data/mouth_v2_causal
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from talkinghead.corpora.people import recording_person
from talkinghead.evaluate.splits import recording_group
from talkinghead.recipes.mouth import build_cache, list_clips

REPO = Path(__file__).resolve().parents[1]


def carve_val(clips, frac: float, seed: int):
    """Validation clips = every clip of a random ``frac`` of the training speakers."""
    spk = sorted({c.speaker for c in clips})
    rng = np.random.default_rng(seed)
    rng.shuffle(spk)
    n_val = max(1, int(round(frac * len(spk))))
    val = set(spk[:n_val])
    return [c for c in clips if c.speaker not in val], [c for c in clips if c.speaker in val]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", nargs="+", required=True, help="prepare output folders")
    ap.add_argument("--split", default="mouth_v2", help="shipped split name (test side held out)")
    ap.add_argument("--out", required=True, help="checkpoint folder to write")
    ap.add_argument("--work", default="/tmp/th_mouth/work", help="resumable training state")
    ap.add_argument("--cache", default=None, help="feature cache (default /tmp/th_mouth/<fe>)")
    ap.add_argument(
        "--frontend", default="student", choices=["student", "whisper", "mel", "causal"]
    )
    ap.add_argument(
        "--causal-dir",
        default=None,
        help="the causal front end's model (default: the shipped data/default_causal)",
    )
    ap.add_argument("--lookahead", type=int, default=None, help="frames (20 ms): causal model")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--dilations", default="1,2,4,8,1")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--crop", type=float, default=4.0, help="seconds per training crop")
    ap.add_argument("--dropout", type=float, default=0.1, help="input dropout (training)")
    ap.add_argument("--val-frac", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1: measured 30x faster than 2 on the loaded 2-core machine)",
    )
    ap.add_argument("--cache-only", action="store_true")
    ap.add_argument(
        "--fast-dir",
        default=None,
        help="a ridge read-out checkpoint on a student (scripts/train_default.py --student): "
        "its student/ is the front end and it is the --prior (default: the shipped "
        "data/default_fast); give it its own --cache",
    )
    ap.add_argument("--prior", action="store_true", help="add the ridge opening as an input")
    ap.add_argument(
        "--train-only",
        nargs="*",
        default=[],
        help="more prepare folders whose clips only train (never validation), e.g. grid_s1",
    )
    ap.add_argument(
        "--train-only-share",
        type=float,
        default=None,
        help="share of the training crops drawn from the --train-only clips (default: by length)",
    )
    ap.add_argument(
        "--exclude-clips",
        nargs="*",
        default=[],
        help="clip ids (or their last path part) never used, e.g. the tests' GRID s1 sentences",
    )
    ap.add_argument(
        "--val-from",
        default=None,
        help="checkpoint folder whose meta.val_clips fixes the validation clips, or a JSON "
        "list of clip ids (scripts/mouth_v2_val_clips.json)",
    )
    ap.add_argument(
        "--dof-weights", default=None, help="loss weight per DOF, e.g. 2,1.5,.5,.5,.5,.5"
    )
    ap.add_argument(
        "--balance",
        default="length",
        choices=["length", "speaker"],
        help="crop sampling: by clip length, or every speaker's clips equally likely in total",
    )
    ap.add_argument(
        "--loss",
        default="mse",
        choices=["mse", "corr", "mse+corr"],
        help="training loss: MSE to the per-clip z-scores, 1 - Pearson r per crop and DOF, or both",
    )
    ap.add_argument(
        "--close-weight",
        type=float,
        default=0.0,
        help="extra MSE weight W of the opening on closed-in-speech frames (weight 1 + W; 0: off)",
    )
    ap.add_argument(
        "--ensemble",
        type=int,
        default=1,
        help="networks trained with seeds seed..seed+K-1 whose outputs are averaged",
    )
    ap.add_argument(
        "--calibration",
        default="quantile",
        help="per-DOF calibration on the validation clips: quantile, affine, or one per DOF "
        "(e.g. quantile,affine,affine,affine,affine,affine)",
    )
    ap.add_argument(
        "--add-members",
        nargs="*",
        default=[],
        help="checkpoints (of the same architecture, e.g. the recipe without --train-only) whose "
        "networks join the trained ones as ensemble members (recipes.mouth.ensemble_of mixed=True)",
    )
    ap.add_argument(
        "--gate-db",
        type=float,
        default=-45.0,
        help="silence gate threshold (dB below the reference)",
    )
    ap.add_argument(
        "--gate-ref-db",
        type=float,
        default=None,
        help="streaming (causal) models: a prior speech level (dB of full scale) under the causal "
        "gate's loudest-so-far reference (MouthConfig.gate_ref_db)",
    )
    ap.add_argument(
        "--open-calibration",
        action="store_true",
        help="quantile-calibrate the final (blended) opening on the validation clips",
    )

    args = ap.parse_args(argv)

    from talkinghead.evaluate.splits import load_split
    from talkinghead.models.mouth import MouthConfig
    from talkinghead.recipes.mouth import evaluate_clip, fit_calibration, train_mouth

    split = load_split(args.split)
    test_people = split.test_people()
    items = list_clips(args.prepared)
    keep = []
    for d, c, rec in items:
        if split.side(c["recording"]) != "train" or recording_person(rec) in test_people:
            continue  # the held-out side (and its people) never reach training
        keep.append((d, c, rec))
    excl = set(args.exclude_clips)

    def excluded(c):
        return c["id"] in excl or c["id"].rsplit("/", 1)[-1] in excl

    keep = [k for k in keep if not excluded(k[1])]
    print(f"{len(items)} ok clips, {len(keep)} on the training side", flush=True)
    cache = Path(args.cache or f"/tmp/th_mouth/{args.frontend}")
    student_dir = None
    if args.fast_dir:
        if args.frontend != "student":
            raise SystemExit(f"--fast-dir needs --frontend student, not {args.frontend}")
        student_dir = Path(args.fast_dir) / "student"
    clips, student = build_cache(
        keep,
        args.frontend,
        cache,
        causal_dir=args.causal_dir,
        group_fn=recording_group,
        student_dir=student_dir,
    )
    causal = None
    if args.frontend == "causal":  # the front end is the causal model, not a student
        causal, student = student, None
    extra = []
    if args.train_only:
        more = [
            (d, c, rec)
            for d, c, rec in list_clips(args.train_only)
            if split.side(c["recording"]) == "train"
            and recording_person(rec) not in test_people
            and not excluded(c)
        ]
        extra, _ = build_cache(
            more,
            args.frontend,
            cache,
            causal_dir=args.causal_dir,
            group_fn=recording_group,
            student_dir=student_dir,
        )
        print(f"{len(extra)} train-only clips from {args.train_only}", flush=True)
    print(f"cached {len(clips) + len(extra)} clips under {cache}", flush=True)
    if args.cache_only:
        return 0
    prior = None
    if args.prior and args.frontend != "causal":  # causal: the prior is a head of the trunk
        from talkinghead.models.default import FAST_DIR, WHISPER_DIR, DefaultModel
        from talkinghead.models.mouth import append_prior, prior_at_50hz

        ridge = DefaultModel.from_pretrained(
            args.fast_dir or (FAST_DIR if args.frontend == "student" else WHISPER_DIR)
        )
        prior = prior_at_50hz(ridge)
        for c in clips + extra:
            c.feats = append_prior(prior, c.feats.astype(np.float32)).astype(np.float16)
    if args.val_from:
        from talkinghead.recipes.mouth import read_val_clips

        vids = set(read_val_clips(args.val_from))
        train = [c for c in clips if c.id not in vids]
        val = [c for c in clips if c.id in vids]
        vspk = {c.speaker for c in val}
        train = [c for c in train if c.speaker not in vspk]  # person-disjoint
        extra = [c for c in extra if c.speaker not in vspk]
    else:
        train, val = carve_val(clips, args.val_frac, args.seed)
    n_main = len(train)
    train = train + extra
    print(
        f"train {len(train)} clips ({len({c.speaker for c in train})} speakers), "
        f"val {len(val)} clips ({len({c.speaker for c in val})} speakers)",
        flush=True,
    )
    cfg = MouthConfig(
        frontend=args.frontend,
        in_dim=clips[0].feats.shape[1],
        channels=args.channels,
        lookahead=args.lookahead,
        dilations=[int(x) for x in args.dilations.split(",")],
        utterance_norm=args.lookahead is None,
        prior=args.prior,
        dropout=args.dropout,
        gate_db=args.gate_db,
        gate_ref_db=args.gate_ref_db,
    )
    weights = None
    lengths = np.array([len(c.feats) for c in train], np.float64)
    if args.balance == "speaker":
        per = {}
        for c, n in zip(train, lengths, strict=True):
            per[c.speaker] = per.get(c.speaker, 0.0) + n
        weights = np.array([n / per[c.speaker] for c, n in zip(train, lengths, strict=True)])
    if args.train_only_share is not None and extra:
        w = lengths.copy() if weights is None else weights.copy()
        a, b = w[:n_main].sum(), w[n_main:].sum()
        s = float(args.train_only_share)
        w[:n_main] *= (1 - s) / a
        w[n_main:] *= s / b
        weights = w
    dof_w = None if args.dof_weights is None else [float(v) for v in args.dof_weights.split(",")]
    if args.ensemble < 1:
        raise SystemExit(f"--ensemble {args.ensemble} must be >= 1")
    t0 = time.time()
    nets = []
    for i in range(args.ensemble):
        nets.append(
            train_mouth(
                train,
                config=cfg,
                student=student,
                prior=prior,
                out_dir=args.work if args.ensemble == 1 else Path(args.work) / f"m{i}",
                steps=args.steps,
                batch=args.batch,
                crop_s=args.crop,
                lr=args.lr,
                seed=args.seed + i,
                threads=args.threads,
                dof_weights=dof_w,
                clip_weights=weights,
                loss=args.loss,
                close_weight=args.close_weight,
                progress=lambda s, loss, el: print(
                    f"  step {s} loss {loss:.3f} ({el:.0f} s)", flush=True
                ),
            )
        )
    if args.add_members:
        from talkinghead.models.mouth import MouthModel

        nets += [MouthModel.from_pretrained(p) for p in args.add_members]
    if len(nets) == 1:
        model = nets[0]
    else:
        from talkinghead.recipes.mouth import ensemble_of

        model = ensemble_of(nets, mixed=bool(args.add_members))
        if args.add_members:
            model.config.prior_blend = 0.0  # chosen again below
            model.meta["ensemble_added"] = [str(p) for p in args.add_members]
    print(f"trained in {time.time() - t0:.0f} s", flush=True)
    model.causal = causal
    scores = [evaluate_clip(model, c) for c in val]
    names = list(scores[0]) if scores else []
    raw = {n: float(np.nanmedian([s[n] for s in scores])) for n in names}
    print("val median r (uncalibrated): " + " ".join(f"{n} {v:.3f}" for n, v in raw.items()))
    if val:
        kinds = args.calibration.split(",")
        model.calibration = fit_calibration(model, val, kind=kinds[0] if len(kinds) == 1 else kinds)
        model.meta["calibration"] = args.calibration
    if args.prior and val:  # the prior's share of the opening, chosen on the validation clips
        best = None
        for b in (0.0, 0.25, 0.5, 0.75, 1.0):
            model.config.prior_blend = b
            r = float(np.nanmedian([evaluate_clip(model, c)["open"] for c in val]))
            print(f"  prior_blend {b:.2f}: val median open r {r:.3f}", flush=True)
            if best is None or r > best[1] + 1e-9:
                best = (b, r)
        model.config.prior_blend = best[0]
        model.meta["prior_blend_val_r"] = best[1]
    if args.open_calibration and val:
        from talkinghead.recipes.mouth import fit_open_calibration

        model.open_calibration = fit_open_calibration(model, val)
    if val:
        final = [evaluate_clip(model, c) for c in val]
        fin = {n: float(np.nanmedian([s[n] for s in final])) for n in names}
        print("val median r (final): " + " ".join(f"{n} {v:.3f}" for n, v in fin.items()))
        model.meta["val_median_r_final"] = fin
    model.meta["train_clips"] = sorted(c.id for c in train)
    model.meta["val_clips"] = sorted(c.id for c in val)
    model.meta.update(
        {
            "val_median_r": raw,
            "n_val_clips": len(val),
            "frontend": args.frontend,
            "recipe": "talkinghead.recipes.mouth (scripts/train_mouth.py)",
            "prepared": [str(p) for p in args.prepared],
            "train_only": [str(p) for p in args.train_only],
            "argv": list(sys.argv[1:] if argv is None else argv),
        }
    )
    out = model.save_pretrained(args.out)
    print(f"saved {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
