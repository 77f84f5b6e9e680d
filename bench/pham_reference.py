"""Pham 2017's metrics for a constant predictor, Pham's SVR baseline and trained checkpoints.

On the test clips of a prepared corpus (the split of ``--splits FILE``, default the corpus'
``splits.json``), scored by :func:`talkinghead.evaluate.run.evaluate_clips` (the code of
``talkinghead evaluate``) against the pham2017 recipe's targets (``face.fit3d``: rotation
quaternion vector + 52 ARKit weights): Pham's parameter error (Table 1: summed over the
parameters, pooled over frames), the 3-D landmark RMSE in mm (Table 2) and the 2-D one over
the head size (Table 3), plus the median mouth-opening r. Systems:

* ``constant``: the mean of the fitted parameters of the first ``--n-train`` training clips
  (0: all), a predictor that never moves: a model must beat it to have learnt anything;
* ``svr`` (with ``--svr``): Pham's baseline, one linear SVR per output
  (:class:`~talkinghead.recipes.pham2017.SVRBaseline`, every 5th training frame) on the
  normalised 537-d features;
* ``--model DIR ...``: pham2017 checkpoints (``talkinghead train pham2017 ...``).

Usage::

    python bench/pham_reference.py --corpus CORPUS [--splits FILE] [--n-train 30] [--svr]
                                   [--model MODEL_DIR ...] [--json OUT]

Prints one JSON line (and writes it to ``--json``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="prepared corpus")
    p.add_argument("--splits", type=Path, help="split file (default CORPUS/splits.json)")
    p.add_argument("--n-train", type=int, default=30, help="training clips for the mean (0: all)")
    p.add_argument("--svr", action="store_true", help="also fit and score Pham's linear SVR")
    p.add_argument("--model", type=Path, nargs="*", default=[], help="pham2017 checkpoints")
    p.add_argument("--json", type=Path, help="write the result here too")
    args = p.parse_args(argv)
    from talkinghead.evaluate.baselines import Prediction
    from talkinghead.evaluate.metrics import mouth_openness
    from talkinghead.evaluate.run import evaluate_clips, load_corpus_truths, model_predict_fn
    from talkinghead.recipes.pham2017 import Pham2017
    from talkinghead.training.data import load_clips

    splits = json.loads((args.splits or args.corpus / "splits.json").read_text())
    recipe = Pham2017()
    t0 = time.perf_counter()
    cache: dict[str, np.ndarray] = {}

    def params(c) -> np.ndarray:
        if c.id not in cache:
            y, m = recipe.targets(c)
            y = np.asarray(y, np.float64)
            y[~np.asarray(m, bool)] = np.nan
            cache[c.id] = y
        return cache[c.id]

    train = load_clips(args.corpus, "train", splits=splits)
    test = {c.id: c for c in load_clips(args.corpus, "test", splits=splits)}
    mean_clips = train if args.n_train <= 0 else train[: args.n_train]
    mu = np.nanmean(np.concatenate([params(c) for c in mean_clips]), axis=0)

    def as_pred(y, c):
        return Prediction(mouth_openness(y[:, 3:]), params=y, extra={"true_params": params(c)})

    systems = {"constant": lambda t: as_pred(np.tile(mu, (t.n_frames, 1)), test[t.id])}
    if args.svr:
        from talkinghead.audio.normalize import FeatureNormalizer
        from talkinghead.recipes.pham2017 import SVRBaseline

        xs = [np.asarray(recipe.inputs(c), np.float64) for c in train]
        ys = [params(c) for c in train]
        ok = [np.isfinite(y).all(axis=1) for y in ys]
        norm = FeatureNormalizer.fit(xs)
        x = np.concatenate([norm.transform(a)[m] for a, m in zip(xs, ok, strict=True)])
        y = np.concatenate([b[m] for b, m in zip(ys, ok, strict=True)])
        svr = SVRBaseline(kernel="linear", subsample=5).fit(x, y)

        def svr_pred(t):
            c = test[t.id]
            return as_pred(np.asarray(svr.predict(norm.transform(recipe.inputs(c))), float), c)

        systems["svr"] = svr_pred
    for d in args.model:
        systems[d.name] = model_predict_fn(d, corpus_dir=args.corpus)
    truths = load_corpus_truths(args.corpus, split="test", splits=splits)
    res = evaluate_clips(truths, systems, with_phones=False)
    agg = res.aggregates()
    out = {
        "corpus": str(args.corpus),
        "splits": str(args.splits or args.corpus / "splits.json"),
        "n_train_clips": len(train),
        "n_mean_clips": len(mean_clips),
        "n_test_clips": len(truths),
        "systems": {
            s: {
                "test_frames": agg[s]["pham_param_error"]["frames"],
                "pham_param_error": agg[s]["pham_param_error"]["pooled"],
                "rmse_3d_mm": agg[s]["pham_rmse_3d_mm"]["pooled"],
                "rmse_2d_head": agg[s]["pham_rmse_2d"]["pooled"],
                "mouth_r_median": agg[s]["mouth_r"]["median"],
            }
            for s in res.systems
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }
    line = json.dumps(out)
    print(line)
    if args.json:
        from talkinghead._util.atomic import write_text_atomic

        write_text_atomic(args.json, line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
