"""Evaluation driver: score systems on clips, aggregate, write a report.

* :func:`evaluate_clips` scores predictions on a list of :class:`ClipTruth` (plain arrays);
* :func:`evaluate` does it for a model (a predict function, a checkpoint folder, or the
  word ``"phonetic"`` / ``"energy"``) on a split of a prepared corpus, with baselines;
* :func:`write_report` writes ``results.json``, ``report.md`` and PNG plots, atomically.

Per clip and system the scores are (NaN where they do not apply):

=================  ===========================================================================
mouth_r            Pearson r at zero lag, predicted vs true openness (constant prediction: 0)
lag_ms, lag_r      lip-sync offset at the cross-correlation peak within +-200 ms (+ = late)
bilabial_closure   share of /p b m/ segments where the predicted mouth closes (phones from
                   forced alignment when the clip has a transcript, else phone recognition)
jitter             acceleration energy of the prediction relative to the truth, on openness
                   tracks standardised to unit variance (so scales need not match)
silence_motion     mean |velocity| of the openness in silence relative to speech (silence from
                   the phones' SIL segments)
landmark_rmse,     landmark RMSE (all 68 / lips 48-67) normalised by the true inter-ocular
lip_rmse           distance, after aligning each predicted frame to the true one with a
                   similarity transform fitted on the eyes and nose (so a model in normalised
                   coordinates, or the phonetic animator's neutral face, can be compared)
lip_d1_mse,        MSE of the lip landmarks' first / second temporal differences (same
lip_d2_mse         alignment, in inter-ocular units)
param_mse_per_dim  squared parameter error averaged over the frames and the dimensions, when
                   both the truth and the prediction carry ``params`` (not Pham's error)
=================  ===========================================================================

The papers' metrics (:mod:`.paper_metrics`, :data:`PAPER_METRICS`), per clip and pooled over
the frames of all clips as the papers do (``aggregates()[system][name]["pooled"]``, also per
emotion):

===================  =========================================================================
pham_param_error     Pham 2017 Sec. 6 / Table 1: ``1/M sum_i ||y_i - y^_i||^2`` (summed over
                     the parameter dimensions, pooled over frames), in the model's parameter
                     space (needs ``params``)
pham_rmse_3d_mm      Pham 2017 Table 2: RMSE (mm) of the 68 landmarks of Eq. (1) rebuilt from
                     the predicted vs the true rotation + 52 blendshape weights (shipped head)
pham_rmse_2d         Pham 2017 Table 3: the same projected onto the image plane, over the
                     head size (:func:`.paper_metrics.head_size`)
sakurai_corr         Sakurai 2018 Eq. (3): per-frame Pearson r across the code dimensions,
                     averaged over all frames (needs ``params``)
eskimez_lip_mse,     Eskimez 2018: MSE of the 20 lip points (and of their 1st / 2nd temporal
eskimez_lip_d1_mse,  differences) in the authors' normalised space (first-frame eyes pinned,
eskimez_lip_d2_mse   identity removed), after the same similarity alignment as above
===================  =========================================================================

Aggregates are the median (and mean) over clips per system, the pooled papers' metrics, and
per emotion the median mouth_r and the pooled papers' metrics.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._util.atomic import atomic_path, write_text_atomic
from ..errors import CheckpointError, DependencyError, InvalidArgumentError, MediaError
from . import metrics as M
from . import paper_metrics as PM
from .baselines import Prediction, energy_predict, mean_face, phonetic_predict, smoothed_truth
from .truth import ClipTruth, truth_from_corpus_clip

__all__ = [
    "EvalResult",
    "BASELINES",
    "METRICS",
    "PAPER_METRICS",
    "evaluate_clips",
    "evaluate",
    "load_corpus_truths",
    "model_predict_fn",
    "baseline_predict_fn",
    "similarity_align",
    "write_report",
]

#: Reference systems run by ``baselines=True``: the clip's mean face, the audio energy,
#: the phonetic animator, the truth smoothed over 120 ms (the ceiling of a smooth
#: predictor) and the truth itself (r = 1 by construction; it gives the real face's
#: bilabial closure rate and silence motion, which a prediction should match).
BASELINES = ("mean", "energy", "phonetic", "truth_smoothed", "truth")

#: Per-clip metric names, in table order.
METRICS = (
    "mouth_r", "lag_ms", "lag_r", "bilabial_closure", "jitter", "silence_motion",
    "landmark_rmse", "lip_rmse", "lip_d1_mse", "lip_d2_mse", "param_mse_per_dim",
    "pham_param_error", "pham_rmse_3d_mm", "pham_rmse_2d", "sakurai_corr",
    "eskimez_lip_mse", "eskimez_lip_d1_mse", "eskimez_lip_d2_mse",
)  # fmt: skip

#: The papers' metrics, pooled over frames: name -> whether it is a root mean square (the
#: per-clip value is then ``sqrt(sum / n)``, else ``sum / n``). Each row also holds
#: ``n_<name>``, the count pooled over (frames, or frame-landmark pairs).
PAPER_METRICS = {
    "pham_param_error": False,
    "pham_rmse_3d_mm": True,
    "pham_rmse_2d": True,
    "sakurai_corr": False,
    "eskimez_lip_mse": False,
    "eskimez_lip_d1_mse": False,
    "eskimez_lip_d2_mse": False,
}

#: Stable points used to align predicted to true landmarks (eye corners, nose bridge and base).
ALIGN_POINTS = (36, 39, 42, 45, 27, 28, 29, 30, 31, 33, 35)

PredictFn = Callable[[ClipTruth], object]


# --------------------------------------------------------------------------- results


def _clean(v):
    if isinstance(v, float | np.floating):
        v = float(v)
        return None if not math.isfinite(v) else v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [_clean(x) for x in v]
    return v


@dataclass
class EvalResult:
    """Scores of several systems on the same clips.

    Attributes
    ----------
    rows : list of dict
        One per (clip, system): ``clip``, ``system``, ``speaker``, ``emotion``, ``n_frames``,
        ``fps`` and every name in :data:`METRICS` (float, NaN where not applicable).
    landmark_errors : dict[str, np.ndarray]
        System -> per-landmark normalised RMSE, shape (68,), averaged (in the square) over clips.
    series : dict[str, dict[str, np.ndarray]]
        Clip -> ``{"truth": (T,), system: (T,), ...}`` openness tracks (kept for plots).
    fps : dict[str, float]
        Clip -> frame rate.
    """

    rows: list[dict] = field(default_factory=list)
    landmark_errors: dict[str, np.ndarray] = field(default_factory=dict)
    series: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    fps: dict[str, float] = field(default_factory=dict)

    @property
    def systems(self) -> list[str]:
        """System names in first-seen order."""
        return list(dict.fromkeys(r["system"] for r in self.rows))

    def values(self, system: str, metric: str) -> np.ndarray:
        """One metric over the clips of one system, shape (n_clips,)."""
        return np.array([r[metric] for r in self.rows if r["system"] == system], dtype=float)

    def aggregates(self) -> dict:
        """``system -> metric -> {"median", "mean", "n"}`` over clips (NaNs skipped); for
        :data:`PAPER_METRICS` also ``"pooled"`` (over the frames of all clips, as the papers
        pool) and ``"frames"`` (the pooled count); plus ``system -> "by_emotion" -> emotion
        -> {"mouth_r": median, <paper metric>: pooled, "n"}`` when labelled."""
        out: dict = {}
        for s in self.systems:
            rows = [r for r in self.rows if r["system"] == s]
            agg: dict = {}
            for m in METRICS:
                v = np.array([r[m] for r in rows], dtype=float)
                fin = v[np.isfinite(v)]
                agg[m] = {
                    "median": float(np.median(fin)) if fin.size else float("nan"),
                    "mean": float(np.mean(fin)) if fin.size else float("nan"),
                    "n": int(fin.size),
                }
                if m in PAPER_METRICS:
                    agg[m]["pooled"] = pooled(rows, m)
                    agg[m]["frames"] = int(sum(r.get(f"n_{m}", 0) or 0 for r in rows))
            emos = [r.get("emotion") for r in rows]
            if any(e is not None for e in emos):
                g = M.group_by([r["mouth_r"] for r in rows], emos, agg=np.nanmedian)
                agg["by_emotion"] = {
                    str(k): {
                        "mouth_r": v["value"],
                        "n": v["n"],
                        **{
                            m: pooled([r for r in rows if r.get("emotion") == k], m)
                            for m in PAPER_METRICS
                        },
                    }
                    for k, v in g.items()
                }
            out[s] = agg
        return out

    def paper_table(self) -> str:
        """A Markdown table of the papers' metrics pooled over frames (see
        :data:`PAPER_METRICS`); empty string when no system has any."""
        agg = self.aggregates()
        cols = [
            m
            for m in PAPER_METRICS
            if any(math.isfinite(agg[s][m]["pooled"]) for s in self.systems)
        ]
        if not cols:
            return ""
        lines = [
            "| system | " + " | ".join(cols) + " |",
            "|" + "---|" * (len(cols) + 1),
        ]
        for s in self.systems:
            cells = [
                "-" if not math.isfinite(v := agg[s][m]["pooled"]) else f"{v:.4g}" for m in cols
            ]
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> null): ``clips`` (the rows), ``aggregates``,
        ``landmark_errors``."""
        return _clean(
            {
                "clips": self.rows,
                "aggregates": self.aggregates(),
                "landmark_errors": {k: v.tolist() for k, v in self.landmark_errors.items()},
            }
        )

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=False, allow_nan=False) + "\n"

    def save_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_json` atomically."""
        return write_text_atomic(path, self.to_json())

    def table(
        self,
        metrics: Sequence[str] = (
            "mouth_r",
            "lag_ms",
            "bilabial_closure",
            "jitter",
            "silence_motion",
            "lip_rmse",
        ),
    ) -> str:
        """A Markdown table of the medians over clips, one row per system."""
        agg = self.aggregates()
        head = "| system | clips | " + " | ".join(f"median {m}" for m in metrics) + " |"
        lines = [head, "|" + "---|" * (len(metrics) + 2)]
        for s in self.systems:
            n = sum(1 for r in self.rows if r["system"] == s)
            cells = []
            for m in metrics:
                v = agg[s][m]["median"]
                cells.append(
                    "-" if not math.isfinite(v) else f"{v:.3g}" if m != "lag_ms" else f"{v:+.0f}"
                )
            lines.append(f"| {s} | {n} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def pooled(rows: Sequence[Mapping], metric: str) -> float:
    """A paper metric pooled over the frames of ``rows`` (their ``metric`` and
    ``n_<metric>``): ``sum(v * n) / sum(n)``, or ``sqrt(sum(v^2 n) / sum(n))`` for an RMSE."""
    root = PAPER_METRICS[metric]
    parts = []
    for r in rows:
        v, n = r.get(metric), r.get(f"n_{metric}") or 0
        if v is None or not n or not math.isfinite(v):
            continue
        parts.append(((v * v if root else v) * n, n))
    return PM.pool(parts, root=root)


# --------------------------------------------------------------------------- scoring


def similarity_align(pred, true, *, points: Sequence[int] = ALIGN_POINTS) -> np.ndarray:
    """Map each predicted frame onto the true one with the best 2-D similarity transform.

    Per frame, the scale, rotation and translation minimising the squared distance of
    ``pred[t, points]`` to ``true[t, points]`` (Umeyama) are applied to all 68 points.

    Parameters
    ----------
    pred, true : array_like, shape (T, 68, 2)
    points : sequence of int

    Returns
    -------
    ndarray, shape (T, 68, 2)
        NaN for frames where either input is not finite.
    """
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 3 or p.shape[1:] != (68, 2):
        raise InvalidArgumentError(
            f"pred.shape={p.shape} and true.shape={t.shape} must be (T,68,2)"
        )
    idx = list(points)
    ps, ts = p[:, idx], t[:, idx]
    mp, mt = ps.mean(axis=1, keepdims=True), ts.mean(axis=1, keepdims=True)
    a, b = ps - mp, ts - mt
    # complex-number form of the 2-D similarity: z_t = s * z_p
    za = a[..., 0] + 1j * a[..., 1]
    zb = b[..., 0] + 1j * b[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sum(np.conj(za) * zb, axis=1) / np.sum(np.abs(za) ** 2, axis=1)  # (T,)
    zp = (p[..., 0] - mp[..., 0]) + 1j * (p[..., 1] - mp[..., 1])
    z = zp * s[:, None]
    out = np.stack([z.real, z.imag], axis=-1) + mt
    bad = ~(np.isfinite(p).all(axis=(1, 2)) & np.isfinite(t).all(axis=(1, 2)) & np.isfinite(s))
    out[bad] = np.nan
    return out


def _standardise(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    v = x[valid & np.isfinite(x)]
    sd = float(v.std()) if v.size > 1 else 0.0
    if sd <= 1e-9 * max(float(np.abs(v).max()) if v.size else 0.0, 1e-300):
        return np.zeros_like(x)  # constant (up to rounding)
    return (x - v.mean()) / sd


def _clip_phones(clip: ClipTruth):
    """Phones of the clip's audio: forced alignment with a transcript, else recognition."""
    if clip.y is None or clip.sr is None:
        return None, None
    from ..audio import phones as ph

    if clip.transcript:
        try:
            return ph.align(y=clip.y, sr=clip.sr, transcript=clip.transcript).phones, "aligned"
        except ph.AlignmentError:
            pass
    return ph.recognize_phones(y=clip.y, sr=clip.sr), "recognized"


def score_clip(clip: ClipTruth, pred: Prediction, *, phones=None, silent=None) -> dict:
    """All per-clip metrics (:data:`METRICS`) of one prediction; see the module docstring."""
    n, fps = clip.n_frames, clip.fps
    true_o = clip.openness
    po = np.asarray(pred.mouth_open, dtype=np.float64).reshape(-1)
    if len(po) != n:
        raise InvalidArgumentError(
            f"clip {clip.id!r}: prediction has {len(po)} frames; the clip has {n}"
        )
    valid = clip.valid & np.isfinite(true_o)
    out = dict.fromkeys(METRICS, float("nan"))
    out["mouth_r"] = M.mouth_corr(po, true_o, valid=valid)
    out["lag_ms"], out["lag_r"] = M.sync_offset(po, true_o, fps=fps, valid=valid)
    if phones is not None:
        out["bilabial_closure"] = M.bilabial_closure_rate(po, phones, fps=fps)[0]
    out["jitter"] = M.jitter_ratio(
        _standardise(po, valid), _standardise(true_o, valid), valid=valid
    )
    if silent is not None:
        out["silence_motion"] = M.silence_motion(po, silent, valid=valid)
    if pred.landmarks is not None and clip.landmarks is not None:
        tl = np.asarray(clip.landmarks, dtype=np.float64)[..., :2]
        pl = similarity_align(np.asarray(pred.landmarks, dtype=np.float64)[..., :2], tl)
        out["landmark_rmse"] = M.landmark_rmse(pl, tl, valid=valid)
        out["lip_rmse"] = M.landmark_rmse(pl, tl, points=M.LIPS, valid=valid)
        out["lip_d1_mse"] = M.lip_diff_mse(pl, tl, order=1, valid=valid)
        out["lip_d2_mse"] = M.lip_diff_mse(pl, tl, order=2, valid=valid)
        out["_landmark_errors"] = M.landmark_errors(pl, tl, valid=valid)
        for k, name in enumerate(("eskimez_lip_mse", "eskimez_lip_d1_mse", "eskimez_lip_d2_mse")):
            _put(out, name, PM.eskimez_lip_mse_parts(pl, tl, order=k, valid=valid))
    true_params = clip.params if clip.params is not None else pred.extra.get("true_params")
    if pred.params is not None and true_params is not None:
        pp, tp = np.asarray(pred.params, float), np.asarray(true_params, float)
        if pp.shape == tp.shape and pp.ndim == 2:
            pv = clip.valid  # the parameters' own mask (their NaNs) decides, not the mesh
            out["param_mse_per_dim"] = M.param_mse_per_dim(pp, tp, valid=pv)
            _put(out, "pham_param_error", PM.pham_param_error_parts(pp, tp, valid=pv))
            if pp.shape[1] >= 2:
                _put(out, "sakurai_corr", PM.sakurai_corr_parts(pp[pv], tp[pv]))
            head = _head_model()
            if head is not None and pp.shape[1] == 3 + head.n_shapes:
                for dims, name in ((3, "pham_rmse_3d_mm"), (2, "pham_rmse_2d")):
                    parts = PM.pham_landmark_rmse_parts(pp, tp, dims=dims, head=head, valid=pv)
                    _put(out, name, parts, root=True)
    return out


def _put(out: dict, name: str, parts: tuple[float, int], *, root: bool = False) -> None:
    s, n = parts
    out[f"n_{name}"] = int(n)
    if n:
        out[name] = math.sqrt(s / n) if root else s / n


_HEAD: list = []


def _head_model():
    """The shipped blendshape head (cached), or None when it cannot be loaded."""
    if not _HEAD:
        try:
            from ..face.head3d import load_head_model

            _HEAD.append(load_head_model())
        except (ImportError, OSError, MediaError):
            _HEAD.append(None)
    return _HEAD[0]


def evaluate_clips(
    clips: Sequence[ClipTruth],
    predictions: Mapping[str, PredictFn | Sequence],
    *,
    with_phones: bool = True,
    keep_series: int = 4,
    progress: bool = False,
) -> EvalResult:
    """Score systems on clips.

    Parameters
    ----------
    clips : sequence of ClipTruth
    predictions : mapping
        System name -> either a callable ``f(clip) -> output`` or a sequence of outputs,
        one per clip. An output is a :class:`Prediction`, an openness (T,), landmarks
        (T, 68, 2), a mesh (T, 468, 3) or an object with ``mouth_open`` / ``landmarks``
        (see :meth:`Prediction.from_output`). An output of None skips that clip.
    with_phones : bool
        Get phones for the bilabial and silence metrics (forced alignment with the
        clip's transcript, else phone recognition; needs the clip's audio). Without
        phones, silence comes from an energy VAD and bilabial closure is NaN.
    keep_series : int
        Keep the openness tracks of the first ``keep_series`` clips for plotting.

    Returns
    -------
    EvalResult
    """
    from .._util.progress import progress as _progress

    res = EvalResult()
    err_sums: dict[str, list] = {}
    for ci, clip in enumerate(
        _progress(list(clips), desc="evaluate", unit="clip", enabled=progress)
    ):
        phones = None
        if with_phones:
            phones, _ = _clip_phones(clip)
        if phones is not None:
            silent = M.silence_mask_from_phones(phones, n_frames=clip.n_frames, fps=clip.fps)
        elif clip.y is not None:
            silent = M.silence_mask_from_energy(
                y=clip.y, sr=clip.sr, fps=clip.fps, n_frames=clip.n_frames
            )
        else:
            silent = None
        if ci < keep_series:
            res.series[clip.id] = {"truth": clip.openness}
            res.fps[clip.id] = clip.fps
        for name, src in predictions.items():
            out = src(clip) if callable(src) else src[ci]
            if out is None:
                continue
            pred = Prediction.from_output(out)
            scores = score_clip(clip, pred, phones=phones, silent=silent)
            lm_err = scores.pop("_landmark_errors", None)
            if lm_err is not None and np.isfinite(lm_err).all():
                err_sums.setdefault(name, []).append(lm_err**2)
            res.rows.append(
                {
                    "clip": clip.id,
                    "system": name,
                    "speaker": clip.speaker,
                    "emotion": clip.emotion,
                    "n_frames": clip.n_frames,
                    "fps": clip.fps,
                    **scores,
                }
            )
            if ci < keep_series and name != "truth":
                res.series[clip.id][name] = np.asarray(pred.mouth_open, dtype=np.float64)
    res.landmark_errors = {k: np.sqrt(np.mean(v, axis=0)) for k, v in err_sums.items()}
    return res


# --------------------------------------------------------------------------- predictors


def baseline_predict_fn(name: str, *, train_mean=None) -> PredictFn:
    """A baseline as ``f(clip) -> Prediction``: ``"mean"``, ``"energy"``, ``"phonetic"``,
    ``"truth_smoothed"`` (the 120 ms smoothed truth) or ``"truth"``. Audio baselines return
    None for clips without audio."""
    if name == "energy":
        return lambda c: (
            None if c.y is None else energy_predict(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames)
        )
    if name == "phonetic":
        from ..models.phonetic import PhoneticAnimator

        anim = PhoneticAnimator()
        return lambda c: (
            None
            if c.y is None
            else phonetic_predict(y=c.y, sr=c.sr, fps=c.fps, n_frames=c.n_frames, animator=anim)
        )
    if name == "mean":
        return lambda c: mean_face(c.n_frames, mean=train_mean, truth=c.landmarks, valid=c.valid)
    if name == "truth_smoothed":
        return lambda c: smoothed_truth(c.openness, fps=c.fps)
    if name == "truth":
        return lambda c: Prediction(c.openness, landmarks=c.landmarks)
    raise InvalidArgumentError(f"baseline={name!r} must be one of {list(BASELINES)}")


#: Audio feature set read by the checkpoints of each recipe: the trainer's ``meta`` names
#: the recipe (``meta["recipe"]``) but not the feature set.
_RECIPE_FEATURES = {
    "eskimez2018": "eskimez2018",
    "sakurai2018": "sakurai2018",
    "pham2017": "pham2017",
}


#: Recipes whose checkpoints are scored through :func:`_recipe_predict_fn` when the corpus
#: is known.
_RECIPE_PREDICTED = frozenset(
    {"fan2015", "sakurai2018", "sakurai2018_baseline", "pham2017", "eskimez2018"}
)


def _recipe_predict_fn(model, meta: dict, corpus_dir, split: str, model_dir=None) -> PredictFn:
    """Predictor that builds a clip's inputs the way its training recipe did.

    Needed by recipes whose inputs are not an audio feature set (``fan2015`` and the
    Sakurai phoneme baseline: phone labels from forced alignment) or whose outputs are
    not landmarks (``pham2017``: rotation + blendshape weights).
    """
    from ..recipes import get_recipe
    from ..training.data import load_clips

    recipe = get_recipe(meta["recipe"], delay_ms=meta.get("delay_ms", 0.0))
    recipe.load_state(meta.get("recipe_state") or {})
    aam = None
    if getattr(recipe, "target", "shape") == "aam":  # AAM face codes: their shape part
        recipe.load_files(model_dir)
        aam = recipe.aam
    clips = {c.id: c for sp in ("train", "valid", "test") for c in load_clips(corpus_dir, sp)}

    tr = getattr(model, "target_transform", None)

    def true_params(c, raw: bool):
        """The recipe's own targets of the clip (NaN where not tracked), in the space of
        the predicted ``params``: raw for Pham, else the model's code space."""
        try:
            yt, mt = recipe.targets(c)
        except (MediaError, InvalidArgumentError, DependencyError):
            return None
        yt = np.asarray(yt, np.float64)
        mt = np.asarray(mt, bool)
        if not raw and tr is not None:
            yt = np.asarray(tr.encode(np.nan_to_num(yt)), np.float64)
        yt[~mt] = np.nan
        return yt

    def predict(clip: ClipTruth):
        c = clips.get(clip.id)
        if c is None:
            return None
        x = np.asarray(recipe.inputs(c), np.float32)
        y = np.asarray(model.predict(x), np.float64)
        if recipe.name == "pham2017":  # 3 rotation parameters + 52 ARKit weights
            extra = {"true_params": true_params(c, raw=True)}
            c.clear()
            return Prediction(M.mouth_openness(y[:, 3:]), params=y, extra=extra)
        code = y
        if tr is not None:  # the model's code space (PCA codes / standardised AAM codes)
            code = np.asarray(model.predict(x, decode=False), np.float64)
        extra = {"true_params": true_params(c, raw=tr is None)}
        c.clear()
        T = len(y)
        if aam is not None:
            lm = np.stack([aam.decode(v)[0] for v in y]).astype(np.float64)
            return Prediction(M.mouth_openness(lm), landmarks=lm, params=code, extra=extra)
        if y.shape[1] == 136:
            lm = y.reshape(T, 68, 2)
        else:  # a subset of the 68 points (fan2015: the lower face); the rest from the mean
            lm = np.repeat(np.asarray(recipe.ref, np.float64)[None], T, axis=0)
            lm[:, list(recipe.points)] = y.reshape(T, -1, 2)
        return Prediction(M.mouth_openness(lm), landmarks=lm, params=code, extra=extra)

    return predict


def model_predict_fn(
    model_dir: str | os.PathLike, *, corpus_dir=None, split: str = "test"
) -> PredictFn:
    """Load a trained :class:`~talkinghead.models.sequence.SequenceModel` as ``f(clip)``.

    The checkpoint's ``meta`` says what it needs and gives: ``meta["features"]`` (the
    audio feature set; else the one of ``meta["recipe"]``, default ``"sakurai2018"``) and
    ``meta["target"]`` (``"landmarks68"``,
    ``"mesh"``, ``"lip_aperture"`` or ``"blendshapes"``). Without a target, the output
    width decides: 136 -> 68 x 2 landmarks, 1404 -> mesh, 1 -> openness, 52 -> ARKit
    blendshapes. Features stored with a corpus clip (``audio_<name>`` in its npz) are
    used when present, else computed from the clip's audio.

    Raises
    ------
    DependencyError
        torch or the sequence model module is not available.
    CheckpointError
        The folder is not a readable checkpoint.
    """
    try:
        from ..models.sequence import SequenceModel
    except ImportError as e:
        raise DependencyError(
            f"model_dir={str(model_dir)!r} needs the learned-model code (torch): {e}"
        ) from None
    if not Path(model_dir).is_dir():
        raise CheckpointError(f"path={str(model_dir)!r} must be a model checkpoint folder")
    model = SequenceModel.from_pretrained(model_dir)
    meta = dict(getattr(model, "meta", {}) or {})
    feat = (
        meta.get("features")
        or meta.get("feature_set")
        or _RECIPE_FEATURES.get(meta.get("recipe"))
        or "sakurai2018"
    )
    if isinstance(feat, list | tuple):
        feat = feat[0]
    target = meta.get("target")
    if corpus_dir is not None and meta.get("recipe") in _RECIPE_PREDICTED:
        # the recipe builds the inputs (phone labels for fan2015 and the Sakurai baseline)
        # and the true parameters / codes the papers' metrics compare with
        return _recipe_predict_fn(model, meta, corpus_dir, split, model_dir)

    context = 0
    if meta.get("recipe") == "eskimez2018":
        context = int((meta.get("recipe_state") or {}).get("context_frames", 0))

    def predict(clip: ClipTruth):
        from ..audio.features import compute_features

        x = None
        npz = clip.extra.get("npz")
        if npz:
            with np.load(npz) as z:
                if f"audio_{feat}" in z:
                    x = np.asarray(z[f"audio_{feat}"], dtype=np.float32)
        if x is None:
            if clip.y is None:
                return None
            x = compute_features(feat, y=clip.y, sr=clip.sr, fps=clip.fps, n_frames=clip.n_frames)
        if context:  # eskimez2018 checkpoints with the authors' context frames
            from ..recipes.eskimez2018 import add_context

            x = add_context(x, context)
        out = np.asarray(model.predict(np.asarray(x, dtype=np.float32)), dtype=np.float64)
        k = out.shape[1]
        kind = target or {
            136: "landmarks68",
            1404: "mesh",
            1: "lip_aperture",
            52: "blendshapes",
        }.get(k)
        if kind == "landmarks68" and k == 136:
            return out.reshape(-1, 68, 2)
        if kind == "mesh" and k == 1404:
            return out.reshape(-1, 468, 3)
        if kind == "lip_aperture" and k == 1:
            return out[:, 0]
        if kind == "blendshapes":
            return Prediction(M.mouth_openness(out), params=out)
        raise CheckpointError(
            f"path={str(model_dir)!r}: output width {k} (target={target!r}) is not one the "
            "evaluation understands (136 landmarks, 1404 mesh, 1 openness, 52 blendshapes)"
        )

    return predict


# --------------------------------------------------------------------------- corpus


def load_corpus_truths(
    corpus_dir: str | os.PathLike, *, split: str = "test", sr: int = 16000, splits=None
) -> list[ClipTruth]:
    """The accepted clips of one split of a prepared corpus as :class:`ClipTruth` s.

    The split comes from ``splits`` (recording ids per split: a protocol run's
    ``MODEL_DIR/splits.json``) when given, else from ``splits.json`` in the corpus
    folder (``{"train": [recording ids], "valid": [...], "test": [...]}``) when present,
    else from
    :func:`~talkinghead.corpora.manifest.split_by_speaker` with its defaults
    (``allow_shared_speakers=True``). ``split="all"`` takes every accepted clip.
    """
    from ..corpora.manifest import read_clips, read_recordings, split_by_speaker

    corpus_dir = Path(corpus_dir)
    if not (corpus_dir / "clips.jsonl").is_file():
        raise MediaError(
            f"path={str(corpus_dir / 'clips.jsonl')!r} must exist (a prepared "
            "corpus folder written by `talkinghead prepare`)"
        )
    recs = {r.id: r for r in read_recordings(corpus_dir)}
    clips = read_clips(corpus_dir, status="ok")
    if split != "all":
        sp_file = corpus_dir / "splits.json"
        if splits is not None:
            ids = set(splits.get(split, []))
        elif sp_file.is_file():
            splits = json.loads(sp_file.read_text(encoding="utf-8"))
            ids = set(splits.get(split, []))
        else:
            parts = split_by_speaker(recs.values(), allow_shared_speakers=True)
            if split not in parts:
                raise InvalidArgumentError(
                    f"split={split!r} must be one of ['train', 'valid', 'test', 'all']"
                )
            ids = {r.id for r in parts[split]}
        clips = [c for c in clips if c.recording in ids]
    return [truth_from_corpus_clip(corpus_dir, c, recs.get(c.recording), sr=sr) for c in clips]


def evaluate(
    model: PredictFn | str | os.PathLike,
    corpus_dir: str | os.PathLike,
    *,
    split: str = "test",
    baselines: bool = True,
    max_clips: int | None = None,
    progress: bool = False,
) -> EvalResult:
    """Evaluate a model (and the baselines) on a split of a prepared corpus.

    Parameters
    ----------
    model : callable, path or str
        ``f(clip: ClipTruth) -> output`` (see :func:`evaluate_clips`), a checkpoint folder
        (:func:`model_predict_fn`), or one of the baseline names ``"phonetic"``,
        ``"energy"``, ``"mean"`` to evaluate a baseline itself.
    corpus_dir : path
        A prepared corpus folder.
    split : str
        ``"train"``, ``"valid"``, ``"test"`` or ``"all"``; a checkpoint trained on a
        paper's protocol (``MODEL_DIR/splits.json``) is scored on its protocol's split.
    baselines : bool
        Also score :data:`BASELINES` on the same clips.
    max_clips : int, optional
        Evaluate at most this many clips (the first, in id order).

    Returns
    -------
    EvalResult
        The model is reported as system ``"model"`` (or by its baseline name).
    """
    splits = None
    if not callable(model) and str(model) not in BASELINES:
        sp_file = Path(model) / "splits.json"  # a protocol run: score its own test split
        if sp_file.is_file():
            splits = json.loads(sp_file.read_text(encoding="utf-8"))
    truths = load_corpus_truths(corpus_dir, split=split, splits=splits)
    if max_clips is not None:
        truths = truths[: int(max_clips)]
    if not truths:
        raise InvalidArgumentError(
            f"split={split!r} of corpus_dir={str(corpus_dir)!r} holds no accepted clips"
        )
    systems: dict[str, PredictFn] = {}
    if callable(model):
        systems["model"] = model
    elif str(model) in BASELINES:
        systems[str(model)] = baseline_predict_fn(str(model))
    else:
        systems["model"] = model_predict_fn(model, corpus_dir=corpus_dir, split=split)
    if baselines:
        for b in BASELINES:
            systems.setdefault(b, baseline_predict_fn(b))
    return evaluate_clips(truths, systems, progress=progress)


# --------------------------------------------------------------------------- report


def _save_fig(fig, path: Path) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")


def write_report(
    result: EvalResult, out_dir: str | os.PathLike, *, title: str = "Evaluation"
) -> Path:
    """Write ``results.json``, ``report.md``, ``mouth_open.png`` and ``landmark_error.png``.

    Every file is written atomically. Plots use matplotlib's Agg backend: predicted vs true
    mouth openness over time for the clips kept in ``result.series`` (each track scaled to
    zero mean and unit variance so that different scales overlay), and the per-landmark
    normalised RMSE (68 bars per system with landmarks).

    Returns
    -------
    Path
        ``out_dir / "report.md"``.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.save_json(out / "results.json")
    lines = [
        f"# {title}",
        "",
        f"{len({r['clip'] for r in result.rows})} clips, systems: {', '.join(result.systems)}.",
        "",
        "## Medians over clips",
        "",
        result.table(),
        "",
        "mouth_r: Pearson r (zero lag) of predicted and true mouth openness; lag_ms: "
        "offset at the correlation peak within +-200 ms (+ = prediction late); "
        "bilabial_closure: share of /p b m/ closed; jitter: acceleration energy / truth's; "
        "silence_motion: mouth velocity in silence / in speech; lip_rmse: lips in "
        "inter-ocular units after similarity alignment.",
        "",
    ]
    paper = result.paper_table()
    if paper:
        lines += [
            "## Papers' metrics (pooled over the frames of all clips)",
            "",
            paper,
            "pham_param_error: Pham 2017 Table 1, squared error summed over the parameter "
            "dimensions, mean over frames; pham_rmse_3d_mm / pham_rmse_2d: Tables 2 / 3, "
            "landmarks rebuilt from the parameters (mm; image plane over the head size); "
            "sakurai_corr: Sakurai 2018 Eq. (3); eskimez_lip_*: lip MSE (and of its 1st / 2nd "
            "differences) in Eskimez 2018's eye-pinned, identity-removed space.",
            "",
        ]
    agg = result.aggregates()
    emo = {s: a["by_emotion"] for s, a in agg.items() if "by_emotion" in a}
    if emo:
        lines += ["## Median mouth_r per emotion", ""]
        labels = sorted({e for d in emo.values() for e in d})
        lines.append("| system | " + " | ".join(labels) + " |")
        lines.append("|" + "---|" * (len(labels) + 1))
        for s, d in emo.items():
            cells = [
                f"{d[e]['mouth_r']:.3f}"
                if e in d and d[e]["mouth_r"] is not None and math.isfinite(d[e]["mouth_r"])
                else "-"
                for e in labels
            ]
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
        lines.append("")
        for m in PAPER_METRICS:
            have = {
                s: d
                for s, d in emo.items()
                if any(v.get(m) is not None and math.isfinite(v[m]) for v in d.values())
            }
            if not have:
                continue
            lines += [f"## {m} per emotion (pooled over frames)", ""]
            lines.append("| system | " + " | ".join(labels) + " |")
            lines.append("|" + "---|" * (len(labels) + 1))
            for s, d in have.items():
                cells = [
                    f"{d[e][m]:.4g}"
                    if e in d and d[e].get(m) is not None and math.isfinite(d[e][m])
                    else "-"
                    for e in labels
                ]
                lines.append(f"| {s} | " + " | ".join(cells) + " |")
            lines.append("")
    if plt is not None and result.series:
        clips = list(result.series)
        fig, axes = plt.subplots(len(clips), 1, figsize=(10, 2.4 * len(clips)), squeeze=False)
        for ax, cid in zip(axes[:, 0], clips, strict=True):
            fps = result.fps.get(cid, 25.0)
            for name, tr in result.series[cid].items():
                ok = np.isfinite(tr)
                z = _standardise(tr, ok)
                t = np.arange(len(tr)) / fps
                ax.plot(
                    t,
                    np.where(ok, z, np.nan),
                    lw=2.2 if name == "truth" else 1.0,
                    color="k" if name == "truth" else None,
                    label=name,
                )
            ax.set_title(cid, fontsize=9)
            ax.set_ylabel("openness (z)")
        axes[-1, 0].set_xlabel("seconds")
        axes[0, 0].legend(fontsize=7, ncol=6, loc="upper right")
        fig.tight_layout()
        _save_fig(fig, out / "mouth_open.png")
        plt.close(fig)
        lines += ["## Mouth opening over time", "", "![mouth opening](mouth_open.png)", ""]
    if plt is not None and result.landmark_errors:
        fig, ax = plt.subplots(figsize=(12, 3.5))
        k = len(result.landmark_errors)
        w = 0.8 / k
        for i, (name, e) in enumerate(result.landmark_errors.items()):
            ax.bar(np.arange(68) + (i - (k - 1) / 2) * w, e, width=w, label=name)
        ax.set_xlabel("landmark (48-67: lips)")
        ax.set_ylabel("RMSE / inter-ocular")
        ax.set_xlim(-1, 68)
        ax.legend(fontsize=8)
        fig.tight_layout()
        _save_fig(fig, out / "landmark_error.png")
        plt.close(fig)
        lines += ["## Error per landmark", "", "![error per landmark](landmark_error.png)", ""]
    lines += ["Per-clip scores: `results.json`.", ""]
    return write_text_atomic(out / "report.md", "\n".join(lines))
