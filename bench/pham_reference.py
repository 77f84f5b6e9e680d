"""Reference values of Pham 2017's metrics: a predictor that never moves.

The constant mean of the fitted parameters (``face.fit3d``: rotation quaternion vector + 52
ARKit weights, as the pham2017 recipe's targets) of the first ``--n-train`` training clips,
scored on every test clip of a prepared corpus with ``splits.json`` (e.g. the ``grid_s1``
corpus of ``bench/paper_recipes.py``) by :mod:`talkinghead.evaluate.paper_metrics`: Pham's
parameter error (summed over the parameters, pooled over frames), the 3-D landmark RMSE in
mm and the 2-D one over the head size. Usage::

    python bench/pham_reference.py --corpus /tmp/th_corpora/grid_s1 [--n-train 30]

Prints one JSON line. A model must beat these numbers to have learnt anything about the face.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="prepared corpus with splits.json")
    p.add_argument("--n-train", type=int, default=30, help="training clips for the mean (30)")
    args = p.parse_args(argv)
    from talkinghead.corpora.manifest import read_clips
    from talkinghead.evaluate import paper_metrics as PM
    from talkinghead.face.fit3d import fit_blendshapes
    from talkinghead.recipes.pham2017 import rotvec_to_quaternion_vector
    from talkinghead.recipes.shape import fill_invalid

    splits = json.loads((args.corpus / "splits.json").read_text())
    clips = {c.recording: c for c in read_clips(args.corpus, status="ok")}

    def params(rec: str) -> np.ndarray:
        c = clips[rec]
        with np.load(args.corpus / c.path) as z:
            mesh, valid = z["mesh"], z["valid"].astype(bool)
        fit = fit_blendshapes(fill_invalid(mesh, valid), fps=c.fps, valid=valid).animation
        q = rotvec_to_quaternion_vector(fit.rotation)
        y = np.concatenate([q, np.asarray(fit.weights, np.float32)], axis=1).astype(np.float64)
        y[~valid] = np.nan
        return y

    t0 = time.perf_counter()
    train = [params(r) for r in splits["train"][: args.n_train] if r in clips]
    test = [params(r) for r in splits["test"] if r in clips]
    mu = np.nanmean(np.concatenate(train), axis=0)
    pred = [np.tile(mu, (len(t), 1)) for t in test]
    out = {
        "corpus": str(args.corpus),
        "n_train_clips": len(train),
        "n_test_clips": len(test),
        "test_frames": int(sum(np.isfinite(t).all(axis=1).sum() for t in test)),
        "pham_param_error": PM.pham_param_error(pred, test),
        "rmse_3d_mm": PM.pham_landmark_rmse(pred, test, dims=3),
        "rmse_2d_head": PM.pham_landmark_rmse(pred, test, dims=2),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
