"""How well the real mouth's Face Mesh measures agree with themselves: a ceiling for open r and
width r (issue 12).

Every clip of a prepared corpus on the chosen side of the ``mouth_v2`` split is decoded at
its native size and tracked twice with the same Face Mesh settings as ``talkinghead
prepare`` (video mode): once as recorded and once mirrored left-right. The mirrored pass is
a second measurement of the same mouth whose tracking errors are only partly shared with the
first (the network sees other pixels at each landmark). Per clip it reports

- ``open_rr`` / ``width_rr``: Pearson r between the two passes' mouth opening (13-14 over
  33-263) and mouth width (61-291 over 33-263; the mirror swaps 61 with 291 and 33 with 263,
  so the same formula measures the same distances);
- ``open_ceiling`` / ``width_ceiling``: ``sqrt(max(rr, 0))``, the highest r any predictor
  free of tracking errors could reach against one pass if the two passes' errors were
  independent (classical test theory). Shared errors make ``rr`` too high, so this ceiling
  is an upper bound;
- ``open_prep_r`` / ``width_prep_r``: r between this run's unmirrored pass and the prepared
  mesh that ``talkinghead evaluate`` scores against (about 1: same tracker, same frames);
- ``width_open_r``: r of the prepared width with the prepared opening, and
  ``width_from_open_r``: r of the prepared width with its least-squares fit from the opening
  and the opening squared, fitted on the clip itself (three coefficients per clip: what a
  model that knew the true opening, and how this clip's corners follow it, would reach).

Usage::

    python bench/tracking_ceiling.py --prepared /work/prepared/hunt /work/prepared/old \\
        --side test [--val-clips scripts/mouth_v2_val_clips.json] [--json out.json]

``--side val`` takes the 59 validation clips of ``--val-clips``. Prints the median per
source group (test side) or per corpus folder, and over all clips. Nothing is chosen on
these numbers: they describe the measurement, not a model.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r over the frames both measure; NaN (left out of the medians) under 10."""
    from talkinghead._util.stats import pearson_r

    if (np.isfinite(a) & np.isfinite(b)).sum() < 10:
        return float("nan")
    return pearson_r(a, b)


def _track(frames: list, fps: float, *, mirror: bool) -> np.ndarray:
    from talkinghead.face.tracking import track_frames

    imgs = (np.ascontiguousarray(f[:, ::-1]) if mirror else f for f in frames)
    tr = track_frames(imgs, fps=fps, progress=False, total=len(frames))
    mesh = np.asarray(tr.mesh, dtype=np.float64)
    mesh[~np.asarray(tr.valid, dtype=bool)] = np.nan
    return mesh


def clip_ceiling(clip: dict, rec: dict, prepared_dir: Path) -> dict:
    """The two passes' agreement for one prepared clip (see the module docstring)."""
    from talkinghead.evaluate.mouth_metrics import mouth_opening_mesh, mouth_width_mesh
    from talkinghead.video.io import iter_frames

    start, n = int(clip["start_frame"]), int(clip["n_frames"])
    frames = []
    for i, fr in enumerate(iter_frames(rec["video"])):
        if i >= start + n:
            break
        if i >= start:
            frames.append(fr.image)
    fps = float(clip["fps"])
    a = _track(frames, fps, mirror=False)
    b = _track(frames, fps, mirror=True)
    prep = np.load(prepared_dir / clip["path"])
    pm = np.asarray(prep["mesh"], dtype=np.float64)
    pm[~prep["valid"]] = np.nan
    m = min(len(a), len(b), len(pm))
    oa, ob, op = (mouth_opening_mesh(x[:m]) for x in (a, b, pm))
    wa, wb, wp = (mouth_width_mesh(x[:m]) for x in (a, b, pm))
    out = {"n_frames": m, "open_rr": _r(oa, ob), "width_rr": _r(wa, wb),
           "open_prep_r": _r(oa, op), "width_prep_r": _r(wa, wp)}  # fmt: skip
    ok = np.isfinite(op) & np.isfinite(wp)
    x = np.c_[op[ok], op[ok] ** 2, np.ones(ok.sum())]
    fit = np.full_like(wp, np.nan)
    if ok.sum() >= 10:
        fit[ok] = x @ np.linalg.lstsq(x, wp[ok], rcond=None)[0]
    out["width_open_r"] = _r(wp, op)
    out["width_from_open_r"] = _r(wp, fit)
    for k in ("open", "width"):
        rr = out[f"{k}_rr"]
        out[f"{k}_ceiling"] = float(np.sqrt(max(rr, 0.0))) if np.isfinite(rr) else float("nan")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepared", nargs="+", required=True)
    ap.add_argument("--side", choices=("test", "val"), default="test")
    ap.add_argument("--val-clips", default=str(REPO / "scripts" / "mouth_v2_val_clips.json"))
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--json", default=None, help="write the per-clip rows here")
    args = ap.parse_args(argv)

    from talkinghead.evaluate.splits import load_split
    from talkinghead.recipes.mouth import list_clips, read_val_clips

    split = load_split("mouth_v2")
    val = set(read_val_clips(args.val_clips)) if args.side == "val" else set()
    rows = []
    for d, c, r in list_clips([Path(p) for p in args.prepared]):
        if not r.get("video"):
            continue
        if args.side == "test" and split.side(c["recording"]) == "test":
            rows.append((Path(d), c, r, split.group(c["recording"])))
        elif args.side == "val" and c["id"] in val:
            rows.append((Path(d), c, r, Path(d).name))
    rows = rows[: args.max_clips]
    print(f"{len(rows)} clips on the {args.side} side", flush=True)
    got = []
    t0 = time.time()
    for i, (d, c, r, g) in enumerate(rows):
        res = clip_ceiling(c, r, d)
        res.update(id=c["id"], group=g)
        got.append(res)
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{len(rows)} clips, {time.time() - t0:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(got, indent=1))
    by = defaultdict(list)
    for x in got:
        by[x["group"]].append(x)
        by["all"].append(x)
    keys = ("open_rr", "open_ceiling", "width_rr", "width_ceiling", "open_prep_r", "width_prep_r",
            "width_open_r", "width_from_open_r")  # fmt: skip
    print("| group | clips | " + " | ".join(keys) + " |")
    print("|---|---:|" + "---:|" * len(keys))
    for g in sorted(by, key=lambda k: (k == "all", k)):
        xs = by[g]
        med = [np.nanmedian([x[k] for x in xs]) for k in keys]
        print(f"| {g} | {len(xs)} | " + " | ".join(f"{v:.3f}" for v in med) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
