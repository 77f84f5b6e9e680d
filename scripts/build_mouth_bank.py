"""Build the exemplar mouth bank (``talkinghead/data/mouth_bank``) from prepared GRID clips.

Usage: python scripts/build_mouth_bank.py [--prepared /work/prepared/hunt /work/prepared/old
       /work/prepared/grid_s1] [--out src/talkinghead/data/mouth_bank] [--per-donor 100]
       [--clips 8]

Donors: the GRID people (CC BY 4.0) on the training side of the ``mouth_v2`` split, i.e. not
named by any test or excluded recording (the split is speaker-disjoint, so no held-out
person's mouth enters the bank). Per donor, the first ``--clips`` ok recordings in id order;
their frames tracked at prepare time (``valid``, head within 0.2 rad of frontal, the inner
lips at least 0.04 eye distances apart) are candidates, and ``--per-donor`` of them are kept
by farthest-point sampling of :func:`~talkinghead.render.mouth_exemplar.lip_shape`, starting
from the widest opening (the bank covers the shapes, not the common ones many times over).
``--min-teeth-share S`` keeps only donors whose teeth show
(:func:`~talkinghead.evaluate.photo_metrics.teeth_visible`) in at least ``S`` of their kept
frames that are open >= ``TEETH_MIN_OPEN`` eye distances (people differ: 0.08-0.99 here).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from talkinghead.corpora.people import recording_person
from talkinghead.evaluate.photo_metrics import TEETH_MIN_OPEN, inner_mouth_profile, teeth_visible
from talkinghead.render.mouth_exemplar import MOUTH_BANK_DIR, MouthBank, bank_frames
from talkinghead.video.io import read_video

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "src/talkinghead/evaluate/splits/mouth_v2.json"


def donor_recordings(prepared, n_clips: int) -> dict[str, list[tuple[Path, dict]]]:
    """person -> [(arrays .npz, recording)] of the training-side GRID people."""
    split = json.loads(SPLIT.read_text())
    held = set(split["test"]) | set(split["excluded"])
    recs, held_people = [], set()
    for d in map(Path, prepared):
        for line in (d / "recordings.jsonl").read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                p = recording_person(r)
                recs.append((d, r, p))
                if r["id"] in held:
                    held_people.add(p)
    arrays = {}  # recording id -> its ok clip's arrays
    for d in map(Path, prepared):
        for line in (d / "clips.jsonl").read_text().splitlines():
            c = json.loads(line) if line.strip() else {}
            if c.get("status") == "ok" and c.get("start_frame", 0) == 0:
                arrays[c["recording"]] = d / c["path"]
    out: dict[str, list] = {}
    for _, r, p in sorted(recs, key=lambda x: x[1]["id"]):
        if not str(p).lower().startswith("grid") or p in held_people or r["id"] not in arrays:
            continue
        if len(out.setdefault(p, [])) < n_clips:
            out[p].append((arrays[r["id"]], r))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepared", nargs="+",
                    default=["/work/prepared/hunt", "/work/prepared/old",
                             "/work/prepared/grid_s1"])  # fmt: skip
    ap.add_argument("--out", default=str(MOUTH_BANK_DIR))
    ap.add_argument("--per-donor", type=int, default=100)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--min-teeth-share", type=float, default=0.7,
                    help="keep donors whose teeth show (teeth_visible) in at least this share "
                         "of their kept frames open >= TEETH_MIN_OPEN eye distances")  # fmt: skip
    args = ap.parse_args()
    images, lms, persons, sources = [], [], [], []
    for person, recs in donor_recordings(args.prepared, args.clips).items():
        frames_, lms_, rids, valid_, rot_ = [], [], [], [], []
        for arrays, r in recs:
            with np.load(arrays) as a:
                lm, valid, rot = a["landmarks68"].astype(np.float64), a["valid"], a["rotation"]
            frames = read_video(r["video"]).frames
            n = min(len(frames), len(lm))
            frames_ += list(frames[:n])
            lms_.append(lm[:n])
            valid_.append(valid[:n])
            rot_.append(rot[:n])
            rids += [r["id"]] * n
        lm_all = np.concatenate(lms_)
        keep = bank_frames(lm_all, n=args.per_donor, valid=np.concatenate(valid_),
                           rotation=np.concatenate(rot_))  # fmt: skip
        if len(keep) < 10:
            print(f"{person}: {len(keep)} candidate frames, skipped")
            continue
        cand = [(frames_[t], lm_all[t]) for t in keep]
        vis = [teeth_visible(f, lm) for f, lm in cand
               if inner_mouth_profile(f, lm)["opening"] >= TEETH_MIN_OPEN]  # fmt: skip
        share = float(np.mean([v for v in vis if v is not None] or [0.0]))
        if share < args.min_teeth_share:
            print(f"{person}: teeth show in {share:.2f} of {len(vis)} open frames, skipped")
            continue
        images += [f for f, _ in cand]
        lms += [lm for _, lm in cand]
        persons += [person] * len(cand)
        sources += sorted({rids[t] for t in keep})
        print(f"{person}: {len(recs)} clips, kept {len(cand)} frames; "
              f"teeth show in {share:.2f} of {len(vis)} open ones", flush=True)  # fmt: skip
    bank = MouthBank.from_crops(images, lms, persons, sources=sources)
    folder = bank.save(args.out)
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(f"{len(bank.images)} crops of {len(bank.donors)} donors -> {folder} "
          f"({size / 1e6:.2f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
