"""Closures learned from phone labels (issue 12, /p b m/): labels -> a frame classifier ->
a mouth checkpoint that closes the lips where the classifier hears /p b m/.

Three stages (each resumable; later ones read what earlier ones wrote):

``labels``: every accepted clip on the *training* side of the ``mouth_v2`` split (not of a
test person) gets forced-aligned phones (:func:`talkinghead.audio.phones.align`, pocketsphinx)
of its transcript: the known one (GRID sentences), else a Whisper tiny.en transcript
(:func:`talkinghead.audio.whisper.transcribe`) for English sources; non-English clips
(:data:`talkinghead.evaluate.heldout.NON_ENGLISH_GROUPS`, :data:`NON_ENGLISH_SOURCES`) get
none. One JSON per clip under ``--labels`` (reused; delete it to rebuild)::

    {"id", "group", "source", "person", "transcript", "transcript_source", "n_frames",
     "fps", "phones": [[label, start, end], ...] or null, "error": str or null}

``train``: the classifier (``models.mouth.ClosureNet``, loss in ``recipes.closure``) on the
standardised input of a
mouth checkpoint (``--base``: its front end, prior column and standardisation, so nothing new
is computed at run time), on the training clips of that checkpoint's recipe minus the
validation clips and their people (``--val-from``); target per 50 Hz frame: the frame time
lies inside an aligned /p b m/ segment. Writes ``--out``: the base checkpoint plus the
classifier (``closure.*`` weights, ``config.closure_net``) with ``closure_gain`` set
(``--gain``; 0 or absent: the option off).

Usage (the commands of docs/default_model.md, "Session 11 (helper)")::

    python scripts/train_closure.py labels --prepared /work/prepared/hunt /work/prepared/old \
        /work/prepared/grid_s1 --labels /work/scratch/i12/labels
    python scripts/train_closure.py train --prepared /work/prepared/hunt /work/prepared/old \
        --train-only /work/prepared/grid_s1 --labels /work/scratch/i12/labels \
        --cache /work/scratch/i12/cache --base src/talkinghead/data/mouth_v2 \
        --val-from scripts/mouth_v2_val_clips.json --gain 1 --out OUT
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

#: Training-side sources whose speech is not English (no Whisper tiny.en transcript).
NON_ENGLISH_SOURCES = ("olkavs",)


def label_file(labels: Path, clip_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in clip_id)
    return Path(labels) / f"{safe}.json"


def stage_labels(args) -> int:
    from talkinghead._util.atomic import write_text_atomic
    from talkinghead.evaluate.heldout import (
        NON_ENGLISH_GROUPS,
        add_whisper_transcripts,
        aligned_phones,
        load_heldout_clips,
    )
    from talkinghead.evaluate.splits import load_split

    out = Path(args.labels)
    out.mkdir(parents=True, exist_ok=True)
    test_people = load_split("mouth_v2").test_people()
    t0, n_new = time.time(), 0
    for d in args.prepared:
        clips, _ = load_heldout_clips([d], split="mouth_v2", side="train")
        print(f"{d}: {len(clips)} training-side clips", flush=True)
        for c in clips:
            path = label_file(out, c.id)
            if path.is_file() or c.person in test_people:
                continue
            rec = {"id": c.id, "group": c.group, "source": c.source, "person": c.person,
                   "transcript": c.transcript, "transcript_source": c.transcript_source,
                   "n_frames": c.n_frames, "fps": c.fps, "phones": None, "error": None}  # fmt: skip
            english = c.group not in NON_ENGLISH_GROUPS and not any(
                s in c.source for s in NON_ENGLISH_SOURCES
            )
            try:
                if english:
                    add_whisper_transcripts([c])  # only a clip without a transcript
                rec["transcript"], rec["transcript_source"] = c.transcript, c.transcript_source
                phones = aligned_phones(c)
                if phones is not None:
                    rec["phones"] = [[p.label, float(p.start), float(p.end)] for p in phones]
                elif c.transcript:
                    rec["error"] = "alignment failed"
                else:
                    rec["error"] = "no transcript" if english else "not English"
            except Exception as e:  # a decoding failure: recorded, not fatal
                rec["error"] = f"{type(e).__name__}: {e}"[:300]
            write_text_atomic(path, json.dumps(rec))
            n_new += 1
            if n_new % 50 == 0:
                print(f"  {n_new} labelled ({time.time() - t0:.0f} s)", flush=True)
    print(f"labels: {n_new} new in {time.time() - t0:.0f} s under {out}", flush=True)
    return 0


def load_labels(labels: Path, clip_id: str):
    """The aligned phones of ``clip_id`` ([(label, start, end)]), or None."""
    path = label_file(labels, clip_id)
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("phones")


def stage_train(args) -> int:
    import torch

    from talkinghead.corpora.people import recording_person
    from talkinghead.evaluate.splits import load_split, recording_group
    from talkinghead.models.mouth import MouthModel, closure_config
    from talkinghead.recipes.closure import frame_targets, precision_recall, train_closure
    from talkinghead.recipes.mouth import build_cache, list_clips, read_val_clips

    torch.set_num_threads(1)
    base = MouthModel.from_pretrained(args.base)
    split = load_split("mouth_v2")
    test_people = split.test_people()
    excl = set(args.exclude_clips)

    def keep(items):
        return [(d, c, r) for d, c, r in items if split.side(c["recording"]) == "train"
                and recording_person(r) not in test_people and c["id"] not in excl
                and c["id"].rsplit("/", 1)[-1] not in excl]  # fmt: skip

    main_clips, _ = build_cache(
        keep(list_clips(args.prepared)), "student", Path(args.cache), group_fn=recording_group
    )
    extra, _ = build_cache(
        keep(list_clips(args.train_only)), "student", Path(args.cache), group_fn=recording_group
    )
    vids = set(read_val_clips(args.val_from))
    vspk = {c.speaker for c in main_clips if c.id in vids}
    labels = Path(args.labels)

    def rows(clips, train: bool):
        out = []
        for c in clips:
            if (c.id in vids) == train or (train and c.speaker in vspk):
                continue
            ph = load_labels(labels, c.id)
            if ph is None:
                continue
            x = base.normalize(base.with_prior(c.feats.astype(np.float32)))
            out.append((c, x.astype(np.float32), frame_targets(ph, len(x)), ph))
        return out

    tr_main, tr_extra, val = rows(main_clips, True), rows(extra, True), rows(main_clips, False)

    def count(rs, name):
        grid = [r for r in rs if r[0].group == "GRID" or r in tr_extra]
        for what, sub in (("GRID", grid), ("non-GRID", [r for r in rs if r not in grid])):
            segs = sum(sum(p[0] in ("P", "B", "M") for p in r[3]) for r in sub)
            frames = int(sum(r[2].sum() for r in sub))
            n = int(sum(len(r[2]) for r in sub))
            print(
                f"  {name} {what}: {len(sub)} clips, {segs} /p b m/ segments, "
                f"{frames} of {n} frames positive",
                flush=True,
            )

    count(tr_main, "train (hunt+old)")
    count(tr_extra, "train-only")
    count(val, "val")
    train = tr_main + tr_extra
    lengths = np.array([len(r[1]) for r in train], np.float64)
    w = lengths.copy()
    if tr_extra and args.train_only_share is not None:
        n = len(tr_main)
        s = float(args.train_only_share)
        w[:n] *= (1 - s) / w[:n].sum()
        w[n:] *= s / w[n:].sum()
    cfg = closure_config(base.config.in_dim, channels=args.channels,
                         dilations=[int(v) for v in args.dilations.split(",")])  # fmt: skip
    t0 = time.time()
    net = train_closure([r[1] for r in train], [r[2] for r in train], config=cfg, weights=w,
                        steps=args.steps, seed=args.seed, dropout=args.dropout,
                        progress=lambda st, loss: print(f"  step {st} loss {loss:.3f}",
                                                        flush=True))  # fmt: skip
    print(f"trained in {time.time() - t0:.0f} s", flush=True)
    pr = {}
    for what in ("GRID", "non-GRID", "all"):
        sub = [r for r in val if what == "all" or (r[0].group == "GRID") == (what == "GRID")]
        if not sub:
            continue
        p = np.concatenate([net.prob(r[1]) for r in sub])
        t = np.concatenate([r[2] for r in sub])
        for th in (0.5, 0.25):
            prec, rec = precision_recall(p, t, th)
            pr[f"{what}@{th}"] = [prec, rec]
            print(
                f"  val {what} frames p >= {th}: precision {prec:.2f} recall {rec:.2f} "
                f"({int(t.sum())} positive of {len(t)})",
                flush=True,
            )
    base.closure = net
    base.config.closure_net = cfg.to_dict()
    base.config.closure_gain = float(args.gain) if args.gain else None
    base.meta["closure"] = {
        "recipe": "scripts/train_closure.py (talkinghead.recipes.closure)",
        "argv": list(sys.argv[1:] if args._argv is None else args._argv),
        "n_train_clips": len(train),
        "val_precision_recall": pr,
    }
    out = base.save_pretrained(args.out)
    print(f"saved {out}", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="stage", required=True)
    a = sub.add_parser("labels", help="forced-aligned phones of every training-side clip")
    a.add_argument("--prepared", nargs="+", required=True)
    a.add_argument("--labels", required=True, help="folder of per-clip JSON (reused)")
    t = sub.add_parser("train", help="the classifier, and a mouth checkpoint that uses it")
    t.add_argument("--prepared", nargs="+", required=True)
    t.add_argument("--train-only", nargs="*", default=[], help="e.g. /work/prepared/grid_s1")
    t.add_argument("--train-only-share", type=float, default=0.3)
    t.add_argument("--labels", required=True)
    t.add_argument("--cache", required=True, help="scripts/train_mouth.py's feature cache")
    t.add_argument("--base", required=True, help="the mouth checkpoint the classifier joins")
    t.add_argument("--val-from", required=True, help="validation clip ids (JSON) or checkpoint")
    t.add_argument("--exclude-clips", nargs="*", default=[])
    t.add_argument("--channels", type=int, default=32)
    t.add_argument("--dilations", default="1,2,4,8,1")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--dropout", type=float, default=0.3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--gain", type=float, default=None, help="closure_gain (None: option off)")
    t.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    args._argv = argv
    if args.stage == "labels":
        return stage_labels(args)
    return stage_train(args)


if __name__ == "__main__":
    sys.exit(main())
