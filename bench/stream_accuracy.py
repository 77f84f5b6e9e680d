"""Held-out accuracy of what the server streams vs look-ahead, beside the offline models.

    python bench/stream_accuracy.py [--prepared /work/prepared/hunt]
        [--lookaheads 0 40 80 120 200] [--family DIR] [--old [--causal DIR]] [--max-clips N]
        [--json out.json]

The mouth v2 protocol and code of the issue-12 engineer (``talkinghead.evaluate.heldout``,
the same as ``talkinghead evaluate NAME --protocol mouth_v2 --prepared ...``): the ``test``
side of ``evaluate/splits/mouth_v2.json`` (whole sources never trained on), prepared by
``talkinghead prepare``; per clip, at the clip's fps and frame count: ``open_r`` (Pearson r at
zero lag of the mouth opening against the tracked inner-lip aperture), ``width_r``, ``lag_ms``,
``bilabial``, ``rest_level``/``rest_err``, ``jitter``; medians per source group and over all clips.

Systems:

- ``default``: ``animate()``'s default, the offline mouth v2 (``data/mouth_v2``);
- ``talkinghead.streaming.systems:mouth_causal_<L>`` for each look-ahead ``L`` (ms): exactly what
  the server streams by default (:meth:`talkinghead.streaming.MouthAnimator.offline`, which the
  stream equals) with the checkpoint of ``data/mouth_v2_causal`` (or ``--family DIR``) that the
  server picks for that look-ahead;
- with ``--old``: ``talkinghead.models.default:previous_default`` (the offline ridge read-out
  the causal default model was distilled from) and ``talkinghead.streaming.systems:causal_<L>``
  (:class:`~talkinghead.streaming.LearnedAnimator`, ``data/default_causal`` or ``--causal DIR``:
  the model streamed before, the trunk of the streaming mouth, streamed alone).

Each is a ``module:function`` the evaluate command accepts too, e.g.::

    talkinghead evaluate talkinghead.streaming.systems:mouth_causal_80 --protocol mouth_v2 \\
        --prepared /work/prepared/hunt --no-baselines
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> int:
    from talkinghead.streaming import systems as S

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", nargs="+", default=["/work/prepared/hunt"])
    ap.add_argument("--lookaheads", type=int, nargs="+", default=list(S.LOOKAHEADS),
                    choices=list(S.LOOKAHEADS))  # fmt: skip
    ap.add_argument("--family", default=None, help="folder of la<N>/ causal mouth checkpoints")
    ap.add_argument("--old", action="store_true", help="also the model streamed before")
    ap.add_argument(
        "--causal", default=None, help="with --old: this causal default-model checkpoint"
    )
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    from talkinghead.evaluate.heldout import evaluate_heldout

    S.use_family(a.family)
    if a.causal is not None and not a.old:
        ap.error("--causal DIR needs --old (it replaces the model the causal_* rows stream)")
    S.use_causal(a.causal)
    fam = S.family()
    print(f"streaming: {fam.name}, look-aheads {sorted(20 * k for k in fam.model)} ms")
    mod = "talkinghead.streaming.systems"
    offline = "default"  # mouth v2, animate()'s default
    systems = [offline] + [f"{mod}:mouth_causal_{la}" for la in a.lookaheads]
    if a.old:
        systems += ["talkinghead.models.default:previous_default"]
        systems += [f"{mod}:causal_{la}" for la in a.lookaheads]
    t0 = time.perf_counter()
    res = evaluate_heldout(systems, a.prepared, max_clips=a.max_clips)
    print(f"{len({r['clip'] for r in res.rows})} test clips, {time.perf_counter() - t0:.0f} s")
    print(res.table())
    med = res.medians()
    off = med[offline]["all"]["open_r"]["median"]
    print("| model | look-ahead asked | used | open_r median | - offline mouth v2 |")
    print("|---|---:|---:|---:|---:|")
    for s in systems:
        v = med[s]["all"]["open_r"]["median"]
        if s.startswith(mod):
            la = int(s.rsplit("_", 1)[1])
            if ":mouth" in s:
                used = fam(25, la).lookahead_ms
            else:
                cm = S.causal_model()
                used = 20 * cm.config.delays[cm.head_for(la)]
            cols = f"{la} ms | {used:g} ms"
        else:
            cols = "offline | -"
        print(f"| {s} | {cols} | {v:.3f} | {v - off:+.3f} |")
    if a.json:
        res.save_json(a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
