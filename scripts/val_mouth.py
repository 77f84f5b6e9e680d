"""Score mouth checkpoints on validation clips of the training side (model selection, issue 12).

The same per-clip metrics and medians as ``talkinghead evaluate --protocol mouth_v2``
(:mod:`talkinghead.evaluate.heldout`), but on the *training* side of the split, restricted
to the validation clips a checkpoint lists (``meta.val_clips`` in its ``config.json``,
carved by person: the network never trained on them). The test side is never read.

A system is a checkpoint folder, optionally with config overrides after ``@``
(``DIR@gate_floor_db=10,prior_blend=0.5``), or any name ``talkinghead evaluate`` takes
(``previous_default`` is ``talkinghead.models.default:previous_default``).

Usage::

    python scripts/val_mouth.py --prepared /work/prepared/hunt /work/prepared/old \
        --val-from src/talkinghead/data/mouth_v2 \
        --systems src/talkinghead/data/mouth_v2 src/talkinghead/data/mouth_v2@gate_floor_db=10
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def _value(v: str):
    if v.lower() == "none":
        return None
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v


def system_fn(spec: str):
    """``f(clip) -> (opening, width or None)``."""
    from talkinghead.evaluate import mouth_metrics as MM
    from talkinghead.evaluate.heldout import system_fn

    path, _, over = spec.partition("@")
    if not Path(path).is_dir():
        name = "talkinghead.models.default:previous_default" if spec == "previous_default" else spec
        return system_fn(name)
    from talkinghead.models.mouth import MouthModel

    m = MouthModel.from_pretrained(path)
    for kv in filter(None, over.split(",")):
        k, _, v = kv.partition("=")
        if not hasattr(m.config, k):
            raise SystemExit(f"{spec}: MouthConfig has no field {k!r}")
        setattr(m.config, k, _value(v))

    def f(c):
        r = m(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames)
        return np.asarray(r.mouth_open), MM.mouth_width_68(np.asarray(r.landmarks))

    return f


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", nargs="+", required=True)
    ap.add_argument(
        "--val-from",
        required=True,
        help="checkpoint whose meta.val_clips to use, or a JSON list of clip ids",
    )
    ap.add_argument("--systems", nargs="+", required=True)
    ap.add_argument("--split", default="mouth_v2")
    ap.add_argument("--json", default=None, help="write the per-clip rows here")
    ap.add_argument("--groups", action="store_true", help="also print per source group")
    ap.add_argument(
        "--transcripts",
        choices=["known", "whisper"],
        default="known",
        help="/p b m/ alignment: known transcripts only, or also Whisper ones (English clips)",
    )
    args = ap.parse_args(argv)

    from talkinghead.evaluate import metrics as M
    from talkinghead.evaluate.heldout import (
        HeldoutResult,
        add_whisper_transcripts,
        aligned_phones,
        load_heldout_clips,
        score_heldout_clip,
    )
    from talkinghead.recipes.mouth import read_val_clips

    val = set(read_val_clips(args.val_from))
    clips, _ = load_heldout_clips(args.prepared, split=args.split, side="train")
    clips = [c for c in clips if c.id in val]
    print(f"{len(clips)} of {len(val)} validation clips found", flush=True)
    if args.transcripts == "whisper":
        print(f"{add_whisper_transcripts(clips)} transcribed by Whisper", flush=True)
    fns = {s: system_fn(s) for s in args.systems}
    res = HeldoutResult(split=args.split)
    for c in clips:
        phones = aligned_phones(c)
        if phones is not None:
            silent = M.silence_mask_from_phones(phones, n_frames=c.n_frames, fps=c.fps)
        else:
            silent = M.silence_mask_from_energy(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames)
        for s, f in fns.items():
            o, w = f(c)
            sc = score_heldout_clip(c, o, w, phones=phones, silent=silent)
            res.rows.append({"clip": c.id, "system": s, "group": c.group, **sc})
    med = res.medians()
    pooled = res.pooled_bilabial()
    for s in res.systems:
        a = med[s]["all"]
        print(
            f"{s}: open_r {a['open_r']['median']:.3f} width_r {a['width_r']['median']:.3f} "
            f"bilabial {a['bilabial']['median']:.2f} (n {a['bilabial']['n']}) "
            f"pooled {pooled[s]['all']['rate']:.2f} of {pooled[s]['all']['n']}, confirmed "
            f"{pooled[s]['all']['confirmed_rate']:.2f} of {pooled[s]['all']['confirmed_n']} "
            f"rest_err {a['rest_err']['median']:+.3f} jitter {a['jitter']['median']:.2f} "
            f"lag {a['lag_ms']['median']:+.0f}",
            flush=True,
        )
    for s in res.systems:  # GRID dominates validation: its /p b m/ and the rest's, apart
        parts = []
        for name, is_grid in (("GRID", True), ("non-GRID", False)):
            sub = [r for r in res.rows if r["system"] == s and (r["group"] == "GRID") == is_grid]
            n = sum(int(r.get("bilabial_confirmed_n", 0)) for r in sub)
            h = sum(int(r.get("bilabial_confirmed_hits", 0)) for r in sub)
            o = np.nanmedian([r["open_r"] for r in sub]) if sub else float("nan")
            parts.append(f"{name} ({len(sub)} clips): open_r {o:.3f} confirmed "
                         f"{h / n if n else float('nan'):.2f} of {n}")  # fmt: skip
        print(f"{s}: " + "; ".join(parts), flush=True)
    if args.groups:
        print(res.table())
    if args.json:
        res.save_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
