"""Upper-face statistics: real talking faces vs what ``animate()`` predicts from their audio.

For the 21 real clips of ``bench/eval_baselines.py`` (tracked with Face Mesh at 256 px; tracks
cached under ``--work``), per clip:

- head yaw / pitch / roll: standard deviation (deg) about the clip median, and mean angular
  speed (deg/s) of the 120 ms-smoothed angles;
- brows: standard deviation of the brow height (mean of points 17-26 above the eye points
  36-47, in outer-eye-corner units, 68-point scheme) about the clip median;
- blinks per minute (eye aperture below half its clip median, rising edges);
- speech coupling: Pearson r of the head's angular speed and of the brow height with the
  frame energy of the audio.

The same numbers are computed on ``animate(audio, model="default")`` (its ``rotation`` and its
68 landmarks) and printed side by side as medians over clips (a Markdown table).

Usage::

    python bench/upper_face.py [--work /tmp/th_upper]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TALKINGHEAD_SHARED_DATA", REPO.parent / "shared" / "data"))


def _smooth(x, fps, ms=120.0):
    from talkinghead.evaluate.metrics import smooth

    return smooth(np.asarray(x, np.float64), fps=fps, window_ms=ms)


def _brow_height(lm):
    lm = np.asarray(lm, np.float64)
    d = np.linalg.norm(lm[:, 45] - lm[:, 36], axis=1)
    return (lm[:, 36:48, 1].mean(1) - lm[:, 17:27, 1].mean(1)) / d


def _eye_aperture(lm):
    lm = np.asarray(lm, np.float64)
    d = np.linalg.norm(lm[:, 45] - lm[:, 36], axis=1)
    ap = sum(np.linalg.norm(lm[:, a] - lm[:, b], axis=1)
             for a, b in ((37, 41), (38, 40), (43, 47), (44, 46)))  # fmt: skip
    return ap / 4 / d


def _corr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or a[ok].std() == 0 or b[ok].std() == 0:
        return np.nan
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def stats(*, fps, rotation, landmarks, valid, energy) -> dict:
    """The statistics of one clip (see the module docstring)."""
    from talkinghead.face.head3d import rotation_to_euler

    v = np.asarray(valid, bool)
    out = {}
    ang = np.degrees(np.stack(rotation_to_euler(np.asarray(rotation, np.float64)), 1))
    ang[~v] = np.nan
    for i, n in enumerate(("yaw", "pitch", "roll")):
        a = ang[:, i]
        out[f"{n} sd (deg)"] = float(np.nanstd(a - np.nanmedian(a)))
    # angular speed on smoothed angles (invalid frames filled by interpolation)
    idx = np.arange(len(ang))
    filled = np.stack([np.interp(idx, idx[v], ang[v, i]) for i in range(3)], 1)
    sm = np.stack([_smooth(filled[:, i], fps) for i in range(3)], 1)
    speed = np.linalg.norm(np.diff(sm, axis=0), axis=1) * fps
    speed = np.concatenate([speed[:1], speed])
    out["head speed (deg/s)"] = float(np.mean(speed[v]))
    sm4 = np.stack([_smooth(filled[:, i], fps, 400.0) for i in range(3)], 1)
    sp4 = np.linalg.norm(np.diff(sm4, axis=0), axis=1) * fps
    out["head speed, 400 ms smoothing (deg/s)"] = float(np.mean(sp4[v[1:]]))
    brow = _brow_height(landmarks)
    brow[~v] = np.nan
    out["brow sd (eye-corner units)"] = float(np.nanstd(brow - np.nanmedian(brow)))
    ap = _eye_aperture(landmarks)
    closed = (ap < 0.5 * np.nanmedian(ap[v])) & v
    n_blinks = int(np.sum(closed[1:] & ~closed[:-1]) + closed[0])
    out["blinks / min"] = n_blinks / (v.sum() / fps / 60.0)
    e = _smooth(energy, fps)
    out["r(head speed, energy)"] = _corr(speed[v], e[v])
    out["r(brow, energy)"] = _corr(_smooth(np.nan_to_num(brow), fps)[v], e[v])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/th_upper")
    args = ap.parse_args(argv)
    from talkinghead.evaluate.clips import EVAL_CLIPS as CLIPS

    if not (DATA / "MANIFEST.tsv").is_file():
        print(f"real data not found at {DATA}; set TALKINGHEAD_SHARED_DATA", file=sys.stderr)
        return 1
    from talkinghead._util.atomic import save_npz_atomic
    from talkinghead.audio.energy import frame_rms
    from talkinghead.audio.io import load_audio
    from talkinghead.face.landmarks68 import mesh_to_68
    from talkinghead.face.tracking import track_video
    from talkinghead.inference import animate

    work = Path(args.work)
    real, pred = [], []
    t0 = time.perf_counter()
    t_anim = 0.0
    for rel in CLIPS:
        p = DATA / rel
        cache = work / f"{p.stem}.npz"
        if not cache.is_file():
            tr = track_video(p, size=256, progress=False)
            save_npz_atomic(cache, rotation=tr.rotation, lm=mesh_to_68(tr.mesh), valid=tr.valid,
                            fps=np.float64(tr.fps))  # fmt: skip
        with np.load(cache) as z:
            rot, lm, valid, fps = z["rotation"], z["lm"], z["valid"], float(z["fps"])
        audio = p.with_suffix(".wav") if p.with_suffix(".wav").is_file() else p
        y, sr = load_audio(audio, sr=16000)
        n = len(valid)
        e = frame_rms(y=y, sr=sr, fps=fps, n_frames=n)
        real.append(stats(fps=fps, rotation=rot, landmarks=lm, valid=valid, energy=e))
        t1 = time.perf_counter()
        a = animate(y, sr=sr, fps=fps, n_frames=n, model="default")
        t_anim += time.perf_counter() - t1
        pred.append(stats(fps=fps, rotation=a.rotation, landmarks=a.landmarks,
                          valid=np.ones(n, bool), energy=e))  # fmt: skip
    print(f"{len(real)} clips in {time.perf_counter() - t0:.0f} s (animate: {t_anim:.1f} s)\n")
    keys = list(real[0])
    print(
        "| statistic (median over clips) | real faces | animate() default | real: 25th-75th pct |"
    )
    print("|---|---:|---:|---|")
    for k in keys:
        r = np.array([d[k] for d in real])
        q = np.array([d[k] for d in pred])
        lo, hi = np.nanpercentile(r, [25, 75])
        print(f"| {k} | {np.nanmedian(r):.3f} | {np.nanmedian(q):.3f} | {lo:.3f} - {hi:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
