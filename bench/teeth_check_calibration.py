"""Calibrating the teeth check (:func:`talkinghead.evaluate.photo_metrics.teeth_score`).

Usage: python bench/teeth_check_calibration.py --crops WORK/crops_train_96.npz

On the training side's real mouth crops (``scripts/train_mouth_generator.py`` caches them;
the held-out people are not read) whose inner lips are open >= ``TEETH_MIN_OPEN`` eye
distances: the score of the real crop, of the same crop with the opening replaced by its
own mean colour (a grey fill), by a heavy blur of itself (what an L1-trained generator's
average looks like), by the flat band (``render.mouth.paint_band``) and by the procedural
interior (``render.mouth.paint_mouth``). Prints quantiles and the pass rates at a few
thresholds, and writes nothing.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    import cv2

    from talkinghead.evaluate.photo_metrics import (
        TEETH_MIN_OPEN,
        TEETH_MIN_SCORE,
        inner_mouth_profile,
        teeth_score,
    )
    from talkinghead.render.mouth import MouthPalette, paint_band, paint_mouth

    ap = argparse.ArgumentParser()
    ap.add_argument("--crops", required=True)
    args = ap.parse_args()
    z = np.load(args.crops)
    crops, lms = z["crops"], z["lm"].astype(np.float64)
    people = z["person"]
    sc = {k: [] for k in ("real", "grey fill", "blurred", "band", "procedural")}
    who = []
    for img, lm, p in zip(crops, lms, people, strict=True):
        if inner_mouth_profile(img, lm)["opening"] < TEETH_MIN_OPEN:
            continue
        iod = float(np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)))
        inner = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(inner, [np.round(lm[60:68] * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
        sel = inner > 0
        fill = img.copy()
        fill[sel] = img[sel].mean(0).astype(np.uint8)
        blur = img.copy()
        gap = abs(lm[[65, 66, 67], 1].mean() - lm[[61, 62, 63], 1].mean())
        blur[sel] = cv2.GaussianBlur(img, (0, 0), max(1.0, 0.5 * gap))[sel]
        band, proc = img.copy(), img.copy()
        paint_band(band, lm, iod=iod, photo_gap=0.0)
        paint_mouth(proc, lm, iod=iod, photo_gap=0.0, palette=MouthPalette.from_photo(img, lm))
        for k, x in zip(sc, (img, fill, blur, band, proc), strict=True):
            sc[k].append(teeth_score(x, lm))
        who.append(p)
    print(f"{len(who)} open crops (>= {TEETH_MIN_OPEN} eye distances) of "
          f"{len(set(who))} training-side people (of {len(crops)} crops)")  # fmt: skip
    print("| crop | q10 | q25 | median | q75 | q90 | pass at 0.15 | 0.20 | 0.25 | 0.30 | 0.40 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k, v in sc.items():
        v = np.asarray(v, np.float64)
        v = v[np.isfinite(v)]
        q = np.quantile(v, [0.1, 0.25, 0.5, 0.75, 0.9])
        rates = [np.mean(v >= t) for t in (0.15, 0.2, 0.25, 0.3, 0.4)]
        print(f"| {k} | " + " | ".join(f"{x:.2f}" for x in q) + " | "
              + " | ".join(f"{r:.0%}" for r in rates) + " |")  # fmt: skip
    print(f"(threshold in use: TEETH_MIN_SCORE = {TEETH_MIN_SCORE})")


if __name__ == "__main__":
    main()
