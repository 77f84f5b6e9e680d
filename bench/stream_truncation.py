"""Held-out accuracy of the offline mouth v2 streamed as it is: its future cut after L ms.

    python bench/stream_truncation.py [--prepared /work/prepared/hunt]
        [--lookaheads 0 80 200] [--stats clip causal] [--max-clips N] [--json out.json]

Systems (``talkinghead.streaming.truncated:trunc_<L>_<stats>``, docs/streaming.md): per 50 Hz row
the offline mouth v2 (``data/mouth_v2``, ``animate()``'s default) on the audio up to ``L`` ms
after that row, as it computes the last rows of a clip that ends there, then the video-frame
interpolation, articulation and landmarks of ``MouthModel.__call__``:

- ``trunc_<L>_clip``: the clip-wide statistics (log-mel clamp, utterance normalisation) and
  the clip-wide speech gate from the whole clip: an oracle, the cost of the cut alone;
- ``trunc_<L>_causal``: what a stream has: running-max clamp, the prefix's normalisation,
  the causal gate (``-45 dB`` below the loudest frame so far).

Beside ``default`` (the offline model itself), on the mouth v2 protocol's 90 test clips
(``talkinghead.evaluate.heldout``). CPU: about 15-25 ms per 20 ms row on one thread (the
student's final rows are kept; the rest of each row's receptive field is recomputed).
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", nargs="+", default=["/work/prepared/hunt"])
    ap.add_argument("--lookaheads", type=int, nargs="+", default=[0, 80, 200])
    ap.add_argument("--stats", nargs="+", default=["clip", "causal"], choices=["clip", "causal"])
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    from talkinghead.evaluate.heldout import evaluate_heldout

    systems = ["default"] + [
        f"talkinghead.streaming.truncated:trunc_{la}_{s}" for s in a.stats for la in a.lookaheads
    ]
    t0 = time.perf_counter()
    res = evaluate_heldout(systems, a.prepared, max_clips=a.max_clips)
    print(f"{len({r['clip'] for r in res.rows})} test clips, {time.perf_counter() - t0:.0f} s")
    print(res.table())
    med = res.medians()
    off = med["default"]["all"]["open_r"]["median"]
    groups = [g for g in med["default"] if g != "all"]
    print("| system | open_r all | - offline | width_r | " + " | ".join(groups) + " | rest_err |")
    print("|---|---:|---:|---:|" + "---:|" * len(groups) + "---:|")
    for s in systems:
        g = med[s]
        v = g["all"]["open_r"]["median"]
        cols = " | ".join(f"{g[k]['open_r']['median']:.2f}" for k in groups)
        print(f"| {s.split(':')[-1]} | {v:.3f} | {v - off:+.3f} | "
              f"{g['all']['width_r']['median']:.2f} | {cols} | "
              f"{g['all']['rest_err']['median']:+.2f} |")  # fmt: skip
    if a.json:
        res.save_json(a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
