"""Held-out accuracy of the streamed (causal) default model vs look-ahead, beside the offline one.

    PYTHONPATH=src python bench/stream_accuracy.py [--prepared /work/prepared/hunt]
        [--lookaheads 0 40 80 120 200] [--max-clips N] [--json out.json]

The mouth v2 protocol and code of the issue-12 engineer (``talkinghead.evaluate.heldout``,
the same as ``talkinghead evaluate NAME --protocol mouth_v2 --prepared ...``): the ``test``
side of ``evaluate/splits/mouth_v2.json`` (whole sources never trained on), prepared by
``talkinghead prepare``; per clip, at the clip's fps and frame count: ``open_r`` (Pearson r at
zero lag of the mouth opening against the tracked inner-lip aperture), ``width_r``, ``lag_ms``,
``bilabial``, ``rest_level``/``rest_err``, ``jitter``; medians per source group and over all clips.

Systems: ``talkinghead.models.default:previous_default`` (the offline ridge read-out on the
distilled student, ``data/default_fast``: the model the causal one is distilled from and the
default of ``animate()`` until mouth v2 replaced it), ``default`` (``animate()``'s default
now: mouth v2, for reference) and ``talkinghead.streaming.systems:causal_<L>`` for each
look-ahead ``L``: exactly what the server streams
(:meth:`talkinghead.streaming.LearnedAnimator.offline`, which the stream equals), each a
``module:function`` the evaluate command accepts too, e.g.::

    talkinghead evaluate talkinghead.streaming.systems:causal_80 --protocol mouth_v2 \\
        --prepared /work/prepared/hunt --no-baselines

The causal model was distilled from the offline default model on audio only
(``scripts/train_causal_default.py``, the ``hunt/`` clips left out), so these clips are held
out for both.
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", nargs="+", default=["/work/prepared/hunt"])
    ap.add_argument("--lookaheads", type=int, nargs="+", default=[0, 40, 80, 120, 200],
                    choices=[0, 40, 80, 120, 200])  # fmt: skip
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    from talkinghead.evaluate.heldout import evaluate_heldout

    offline = "talkinghead.models.default:previous_default"  # what the causal model distils
    systems = [offline, "default"] + [
        f"talkinghead.streaming.systems:causal_{la}" for la in a.lookaheads
    ]
    t0 = time.perf_counter()
    res = evaluate_heldout(systems, a.prepared, max_clips=a.max_clips)
    print(f"{len({r['clip'] for r in res.rows})} test clips, {time.perf_counter() - t0:.0f} s")
    print(res.table())
    med = res.medians()
    off = med[offline]["all"]["open_r"]["median"]
    print("| model | look-ahead | open_r median | - offline |")
    print("|---|---:|---:|---:|")
    for s in systems:
        v = med[s]["all"]["open_r"]["median"]
        la = "offline" if s in (offline, "default") else s.rsplit("_", 1)[1] + " ms"
        print(f"| {s} | {la} | {v:.3f} | {v - off:+.3f} |")
    if a.json:
        res.save_json(a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
