"""General refiners scored on held-out people (the test side of the mouth_v2 split).

Usage: python bench/refiner_heldout.py --prepared PREP/hunt PREP/old
       [--refiner NAME=DIR ...] [--per-person 24] [--max-clips 2] [--threads 1] [--json OUT]

For every person of the split's test side (never used to train a refiner), pairs are made
as the refiner's training pairs are (:func:`talkinghead.recipes.yi2020.prepared_pairs`: each
clip's reference frame warped by a frame's true landmarks and 2D head motion, and the real
frame, both cropped to one square around the face, 256 px), from the stored tracks. Each
method (the warp alone, then each ``--refiner``) is scored against the real crops: face
PSNR / SSIM over the box of the real crop's re-tracked 68 points, and the mouth-opening r
of the re-tracked output with the re-tracked real crops (Face Mesh in static-image mode:
the pairs are spread over the clips), per person, then averaged over the people (and r
pooled over all the pairs). Default refiners: the shipped ``data/refiner_general``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPLIT = REPO / "src/talkinghead/evaluate/splits/mouth_v2.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prepared", nargs="+", required=True)
    ap.add_argument("--refiner", nargs="*", default=None, help="NAME=DIR (default: shipped)")
    ap.add_argument("--per-person", type=int, default=24)
    ap.add_argument("--max-clips", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(max(1, args.threads))
    from talkinghead.evaluate.photo_metrics import grey, psnr, ssim
    from talkinghead.face.landmarks68 import mouth_openness_68
    from talkinghead.face.tracking import track_frames
    from talkinghead.models.refiner import Refiner
    from talkinghead.recipes.yi2020 import GENERAL_DIR, prepared_clips, prepared_pairs

    specs = args.refiner if args.refiner else [f"shipped={GENERAL_DIR}"]
    refiners = {}
    for s in specs:
        name, _, d = s.partition("=")
        refiners[f"warp + {name} refiner"] = Refiner.from_pretrained(d)
    test = set(json.loads(SPLIT.read_text(encoding="utf-8"))["test"])
    people = prepared_clips(args.prepared, keep=lambda rid, person: rid in test)
    t0 = time.perf_counter()
    per: dict = {}
    pooled: dict = {}
    for k, (person, clips) in enumerate(people.items()):
        p = prepared_pairs(clips, size=256, max_pairs=args.per_person, max_clips=args.max_clips)
        if p is None or len(p.inputs) < 4:
            continue
        real_tr = track_frames(list(p.targets), fps=25.0, static_image_mode=True)
        real_open = mouth_openness_68(real_tr.landmarks68.astype(np.float64))
        outs = {"warp only": p.inputs}
        outs.update({n: m.refine(p.inputs) for n, m in refiners.items()})
        for name, gen in outs.items():
            ps, ss = [], []
            for i in range(len(gen)):
                if real_tr.valid[i]:
                    lm = real_tr.landmarks68[i]
                    (x0, y0) = np.clip(lm.min(0).astype(int), 0, 255)
                    (x1, y1) = np.clip(lm.max(0).astype(int) + 1, 1, 256)
                else:
                    x0, y0, x1, y1 = 0, 0, 256, 256
                a, b = gen[i][y0:y1, x0:x1], p.targets[i][y0:y1, x0:x1]
                ps.append(psnr(a, b))
                ss.append(ssim(grey(a), grey(b)))
            tr = track_frames(list(gen), fps=25.0, static_image_mode=True)
            op = mouth_openness_68(tr.landmarks68.astype(np.float64))
            ok = tr.valid & real_tr.valid & np.isfinite(op) & np.isfinite(real_open)
            r = float(np.corrcoef(op[ok], real_open[ok])[0, 1]) if ok.sum() > 3 else np.nan
            per.setdefault(name, {})[person] = {
                "psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)), "r": r,
                "n": len(gen), "tracked": float(tr.valid.mean()),
            }  # fmt: skip
            pl = pooled.setdefault(name, ([], []))
            pl[0].extend(op[ok].tolist())
            pl[1].extend(real_open[ok].tolist())
        row = "  ".join(f"{n[:22]} {v[person]['ssim']:.3f}/{v[person]['r']:.2f}"
                        for n, v in per.items())  # fmt: skip
        print(f"[{k + 1}/{len(people)}] {person} ({len(p.inputs)} pairs): {row}", flush=True)
    n_people = len(next(iter(per.values())))
    took = time.perf_counter() - t0
    print(f"\n{n_people} held-out people (mouth_v2 test side), up to {args.per_person} pairs "
          f"each from up to {args.max_clips} clips; {took:.0f} s\n")  # fmt: skip
    print("| method | face PSNR dB | face SSIM | mouth r (mean over people) | mouth r pooled "
          "| re-tracked |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    summary = {}
    for name, v in per.items():
        vals = list(v.values())
        po = pooled[name]
        summary[name] = {
            "psnr": float(np.mean([x["psnr"] for x in vals])),
            "ssim": float(np.mean([x["ssim"] for x in vals])),
            "r": float(np.nanmean([x["r"] for x in vals])),
            "r_pooled": float(np.corrcoef(po[0], po[1])[0, 1]),
            "tracked": float(np.mean([x["tracked"] for x in vals])),
        }
        s = summary[name]
        print(f"| {name} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['r']:.3f} | "
              f"{s['r_pooled']:.3f} | {s['tracked']:.0%} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "people": per}, indent=1))


if __name__ == "__main__":
    main()
