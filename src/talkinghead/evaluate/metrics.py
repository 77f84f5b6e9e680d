"""Objective metrics for speech-driven face animation (pure numpy).

Conventions
-----------
* Time is the first axis: ``T`` frames at ``fps``. Frames whose ground truth was
  not tracked are excluded with a boolean ``valid`` mask of shape ``(T,)`` (or are
  NaN, which every function here also skips).
* Landmark errors are normalised by the inter-ocular distance of the TRUE face,
  ``|p36 - p45|`` (outer eye corners) per frame, so they are face-size free
  (0.1 = a tenth of the eye-corner distance).
* Pearson correlations of a constant series are defined as 0 (no linear
  relation can be claimed), never NaN, so a constant predictor (the mean face)
  scores 0.

Metrics
-------
==========================  ======================================================
:func:`param_mse_per_dim`   squared error averaged over frames AND dimensions (not
                            Pham 2017's error, which sums over the dimensions: see
                            :mod:`.paper_metrics`)
:func:`landmark_rmse`       RMSE of 68 landmarks (or a subset, e.g. :data:`LIPS`)
:func:`landmark_errors`     the same per landmark, shape (68,)
:func:`lip_diff_mse`        MSE of lip landmarks' 1st / 2nd temporal differences
                            (Eskimez 2018)
:func:`corr_codes`          CORR of Sakurai 2018
:func:`mouth_openness`      inner-lip gap of mesh / 68 points / blendshapes
:func:`mouth_corr`          Pearson r at zero lag of two openness tracks
:func:`sync_offset`         lip-sync offset (ms) at the cross-correlation peak
:func:`bilabial_closure_rate`  share of /p b m/ segments where the mouth closes
:func:`jitter_ratio`        acceleration energy relative to the ground truth
:func:`silence_motion`      mouth motion in silence relative to speech
:func:`group_by`            per-label (e.g. per-emotion) aggregation
==========================  ======================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .._util.stats import closed_frames, pearson_r, sync_offset
from ..audio.energy import silence_mask_from_energy, smooth
from ..errors import InvalidArgumentError, as_float_array, check_positive
from ..face.landmarks68 import mouth_openness_68, mouth_openness_mesh

__all__ = [
    "LIPS",
    "BILABIALS",
    "pearson_r",
    "param_mse_per_dim",
    "interocular_distance",
    "landmark_rmse",
    "landmark_errors",
    "lip_diff_mse",
    "corr_codes",
    "group_by",
    "mouth_openness",
    "mouth_corr",
    "sync_offset",
    "closed_frames",
    "bilabial_closure_rate",
    "bilabial_segments_closed",
    "jitter_ratio",
    "acceleration_energy",
    "silence_mask_from_phones",
    "silence_mask_from_energy",
    "silence_motion",
    "smooth",
]

#: The 20 mouth points of the 68-point scheme (outer 48-59, inner 60-67).
LIPS: tuple[int, ...] = tuple(range(48, 68))

#: ARPAbet labels of the bilabial consonants (lips must meet).
BILABIALS: frozenset[str] = frozenset({"P", "B", "M"})

_SILENCE_LABELS = frozenset({"SIL", "SP", "SPN", "NSN", "<SIL>", ""})


# --------------------------------------------------------------------------- helpers


def _same_shape(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise InvalidArgumentError(f"{na}.shape={a.shape} must equal {nb}.shape={b.shape}")


def _frame_mask(valid, n: int) -> np.ndarray:
    if valid is None:
        return np.ones(n, dtype=bool)
    v = np.asarray(valid).astype(bool).reshape(-1)
    if v.shape[0] != n:
        raise InvalidArgumentError(f"valid has {v.shape[0]} frames; expected {n} (one per frame)")
    return v


def _finite_rows(*arrs: np.ndarray) -> np.ndarray:
    ok = np.ones(arrs[0].shape[0], dtype=bool)
    for a in arrs:
        ok &= np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)
    return ok


def param_mse_per_dim(pred, true, *, valid=None) -> float:
    """Squared error of parameter / code tracks averaged over frames and dimensions.

    Not Pham 2017's error: Pham sums over the dimensions and pools over the frames of
    all clips (:func:`talkinghead.evaluate.paper_metrics.pham_param_error`); this is that
    error divided by the number of dimensions, for one clip.

    Parameters
    ----------
    pred, true : array_like, shape (T, D) or (T,)
        Predicted and true parameters per frame (blendshape weights, AAM codes, ...).
    valid : array_like of bool, shape (T,), optional
        Frames to score (default: all finite frames).

    Returns
    -------
    float
        ``mean((pred - true) ** 2)`` over the scored frames and all dimensions;
        NaN if no frame is scored.
    """
    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    _same_shape(p, t, "pred", "true")
    m = _frame_mask(valid, p.shape[0]) & _finite_rows(p, t)
    if not m.any():
        return float("nan")
    return float(np.mean((p[m] - t[m]) ** 2))


def interocular_distance(landmarks) -> np.ndarray:
    """Outer eye-corner distance ``|p36 - p45|`` per frame.

    Parameters
    ----------
    landmarks : array_like, shape (T, 68, D)

    Returns
    -------
    ndarray, shape (T,), float64
    """
    lm = as_float_array(landmarks, "landmarks")
    if lm.ndim != 3 or lm.shape[1] != 68:
        raise InvalidArgumentError(f"landmarks.shape={lm.shape} must be (T, 68, D)")
    return np.linalg.norm(lm[:, 36] - lm[:, 45], axis=-1)


def _lm_pair(pred, true, valid):
    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    if t.ndim != 3 or t.shape[1] != 68:
        raise InvalidArgumentError(f"true.shape={t.shape} must be (T, 68, D)")
    _same_shape(p, t, "pred", "true")
    iod = interocular_distance(t)
    m = _frame_mask(valid, t.shape[0]) & _finite_rows(p, t) & np.isfinite(iod) & (iod > 0)
    return p, t, iod, m


def landmark_errors(pred, true, *, valid=None) -> np.ndarray:
    """Normalised RMSE of each of the 68 landmarks.

    ``e_j = sqrt(mean_t(|pred_tj - true_tj|^2 / iod_t^2))`` with ``iod_t`` the
    outer eye-corner distance of the TRUE landmarks in frame ``t``.

    Parameters
    ----------
    pred, true : array_like, shape (T, 68, D)
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    ndarray, shape (68,)
        NaN everywhere if no frame is scored.
    """
    p, t, iod, m = _lm_pair(pred, true, valid)
    if not m.any():
        return np.full(68, np.nan)
    d2 = np.sum((p[m] - t[m]) ** 2, axis=-1) / iod[m, None] ** 2  # (T', 68)
    return np.sqrt(d2.mean(axis=0))


def landmark_rmse(pred, true, *, points: Sequence[int] | None = None, valid=None) -> float:
    """Landmark RMSE normalised by the true inter-ocular distance.

    ``sqrt(mean_{t, j in points}(|pred_tj - true_tj|^2 / iod_t^2))``, the
    Euclidean point error averaged in the square over frames and points.

    Parameters
    ----------
    pred, true : array_like, shape (T, 68, D)
        Landmarks in the same coordinate frame (e.g. pixels, or both normalised).
    points : sequence of int, optional
        Landmark indices to score (default all 68; :data:`LIPS` for the mouth).
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    float
        NaN if no frame is scored.
    """
    p, t, iod, m = _lm_pair(pred, true, valid)
    if not m.any():
        return float("nan")
    idx = list(range(68)) if points is None else list(points)
    d2 = np.sum((p[m][:, idx] - t[m][:, idx]) ** 2, axis=-1) / iod[m, None] ** 2
    return float(np.sqrt(d2.mean()))


def lip_diff_mse(pred, true, *, order: int = 1, valid=None, normalize: bool = True) -> float:
    """MSE of the lip landmarks' temporal differences (Eskimez 2018).

    ``mean((diff^k pred_lips - diff^k true_lips) ** 2)`` over frames, the 20 lip
    points and coordinates, with ``diff^k`` the ``k``-th difference along time
    (k = 1: velocity, k = 2: acceleration, per frame). A difference counts only
    if all frames it spans are valid.

    Parameters
    ----------
    pred, true : array_like, shape (T, 68, D)
    order : {1, 2}
    valid : array_like of bool, shape (T,), optional
    normalize : bool
        Divide coordinates by the true per-frame inter-ocular distance first
        (default), so the value is face-size free.

    Returns
    -------
    float
        NaN if fewer than ``order + 1`` consecutive valid frames.
    """
    if order not in (1, 2):
        raise InvalidArgumentError(f"order={order!r} must be 1 or 2")
    p, t, iod, m = _lm_pair(pred, true, valid)
    p, t = p[:, LIPS], t[:, LIPS]
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            p, t = p / iod[:, None, None], t / iod[:, None, None]
    dp, dt = np.diff(p, n=order, axis=0), np.diff(t, n=order, axis=0)
    mm = m.copy()
    for _ in range(order):
        mm = mm[:-1] & mm[1:]
    if not mm.any():
        return float("nan")
    return float(np.mean((dp[mm] - dt[mm]) ** 2))


def corr_codes(preds, trues, *, mode: str = "frame") -> float:
    """CORR of Sakurai et al. (2018): correlation of predicted and true codes.

    Sakurai's Eq. (3) is
    ``CORR = sum_n sum_{d=1..D_n} corr(v^_d^n, v_d^n) / sum_n D_n``: ``v_d^n`` is
    the code VECTOR of frame ``d`` of video ``n``, so the correlation is taken
    across the code dimensions of each frame and averaged over all frames of all
    videos (``mode="frame"``, the default; "normalized correlation" is read as
    Pearson correlation).

    ``mode="dimension"`` gives the other common reading: per video, the Pearson
    correlation over time of each code dimension, averaged over dimensions, then
    averaged over videos.

    Both are 1 for a prediction equal to a positively scaled and shifted copy of
    the truth (per frame for ``"frame"``, per dimension for ``"dimension"``).
    Constant series count as r = 0.

    Parameters
    ----------
    preds, trues : sequence of array_like, each shape (T_n, D); or one (T, D) array each
        Predicted and true codes per video (non-finite frames are skipped).
    mode : {"frame", "dimension"}

    Returns
    -------
    float
        NaN when there is nothing to score.
    """
    if mode not in ("frame", "dimension"):
        raise InvalidArgumentError(f"mode={mode!r} must be 'frame' or 'dimension'")
    if isinstance(preds, np.ndarray) and preds.ndim == 2:
        preds, trues = [preds], [trues]
    preds, trues = list(preds), list(trues)
    if len(preds) != len(trues):
        raise InvalidArgumentError(
            f"preds has {len(preds)} videos and trues {len(trues)}; they must match"
        )
    total, count, per_video = 0.0, 0, []
    for i, (pv, tv) in enumerate(zip(preds, trues, strict=True)):
        p, t = as_float_array(pv, f"preds[{i}]"), as_float_array(tv, f"trues[{i}]")
        if p.ndim == 1:
            p, t = p[:, None], t[:, None]
        _same_shape(p, t, f"preds[{i}]", f"trues[{i}]")
        if p.ndim != 2:
            raise InvalidArgumentError(f"preds[{i}].shape={p.shape} must be (T, D)")
        ok = _finite_rows(p, t)
        p, t = p[ok], t[ok]
        if mode == "frame":
            for d in range(p.shape[0]):
                total += pearson_r(p[d], t[d])
                count += 1
        elif p.shape[0] >= 2:
            per_video.append(np.mean([pearson_r(p[:, j], t[:, j]) for j in range(p.shape[1])]))
    if mode == "frame":
        return total / count if count else float("nan")
    return float(np.mean(per_video)) if per_video else float("nan")


def group_by(
    values: Iterable[float],
    labels: Iterable,
    *,
    agg: Callable[[np.ndarray], float] = np.nanmean,
) -> dict:
    """Aggregate a per-clip metric by a label (emotion, speaker, ...).

    Parameters
    ----------
    values : iterable of float, length N
        One metric value per clip.
    labels : iterable, length N
        One hashable label per clip (None is kept as its own group).
    agg : callable
        Reduction of a 1-D array (default NaN-aware mean; ``np.nanmedian`` for medians).

    Returns
    -------
    dict
        ``label -> {"value": agg(values of the label), "n": count}``, labels sorted
        by their string form.
    """
    vals, labs = list(values), list(labels)
    if len(vals) != len(labs):
        raise InvalidArgumentError(f"values has {len(vals)} items and labels {len(labs)}")
    groups: dict = {}
    for v, lab in zip(vals, labs, strict=True):
        groups.setdefault(lab, []).append(float(v))
    out = {}
    for lab in sorted(groups, key=str):
        arr = np.asarray(groups[lab], dtype=np.float64)
        val = float(agg(arr)) if np.isfinite(arr).any() else float("nan")
        out[lab] = {"value": val, "n": len(arr)}
    return out


# --------------------------------------------------------------------------- mouth opening


def mouth_openness(x, *, names: Sequence[str] | None = None) -> np.ndarray:
    """Per-frame mouth openness of any face representation.

    ===================================  ================================================
    input                                openness
    ===================================  ================================================
    (T, 468 or 478, D) Face Mesh         ``|m13 - m14| / |m33 - m263|``
    (T, 68, D) landmarks                 ``|p62 - p66| / |p36 - p45|``
    (T, 52) ARKit blendshapes / ``names`` the ``jawOpen`` column
    (T,)                                 returned as is (already an openness)
    ===================================  ================================================

    Parameters
    ----------
    x : array_like
    names : sequence of str, optional
        Column names of a blendshape array (default the 52 ARKit names).

    Returns
    -------
    ndarray, shape (T,), float64
    """
    a = as_float_array(x, "x")
    if a.ndim == 1:
        return a
    if a.ndim == 3 and a.shape[1] in (468, 478):
        return mouth_openness_mesh(a)
    if a.ndim == 3 and a.shape[1] == 68:
        return mouth_openness_68(a)
    if a.ndim == 2:
        if names is None:
            from ..face.arkit import ARKIT_NAMES

            names = ARKIT_NAMES
        names = list(names)
        if len(names) != a.shape[1] or "jawOpen" not in names:
            raise InvalidArgumentError(
                f"x.shape={a.shape}: blendshape columns must match names (len {len(names)}) "
                "and include 'jawOpen'"
            )
        return a[:, names.index("jawOpen")]
    raise InvalidArgumentError(
        f"x.shape={a.shape} must be (T,), (T, 68, D), (T, 468|478, D) or (T, n_blendshapes)"
    )


def mouth_corr(pred_open, true_open, *, valid=None) -> float:
    """Pearson r at zero lag of predicted and true mouth openness of one clip.

    Parameters
    ----------
    pred_open, true_open : array_like, shape (T,)
        See :func:`mouth_openness`.
    valid : array_like of bool, shape (T,), optional
        Frames with a tracked true face.

    Returns
    -------
    float
        0.0 for a constant prediction (see module notes).
    """
    p, t = as_float_array(pred_open, "pred_open"), as_float_array(true_open, "true_open")
    _same_shape(p, t, "pred_open", "true_open")
    m = _frame_mask(valid, len(t))
    return pearson_r(p[m], t[m])


# --------------------------------------------------------------------------- closures


def _segment_frames(start: float, end: float, *, fps: float, n: int, lead: float) -> np.ndarray:
    lo = int(math.ceil((start - lead) * fps - 1e-9))
    hi = int(math.ceil(end * fps - 1e-9))  # frames k with k / fps < end
    lo, hi = max(lo, 0), min(hi, n)
    if hi > lo:
        return np.arange(lo, hi)
    c = int(round(0.5 * (start + end) * fps))
    return np.array([c]) if 0 <= c < n else np.array([], dtype=int)


def bilabial_segments_closed(
    openness,
    phones,
    *,
    fps: float,
    threshold: float = 0.15,
    lead_ms: float = 60.0,
    labels: Iterable[str] = BILABIALS,
) -> np.ndarray:
    """Per bilabial (/p b m/) segment of ``phones``: does the mouth close in it?

    The rule of :func:`bilabial_closure_rate`, one boolean per scored segment (segments
    outside the clip are left out), in the order of ``phones``.

    Returns
    -------
    np.ndarray of bool, shape (n_segments,)
    """
    fps = check_positive("fps", fps)
    if lead_ms < 0:
        raise InvalidArgumentError(f"lead_ms={lead_ms!r} must be >= 0")
    closed = closed_frames(openness, threshold=threshold)
    want = {s.upper() for s in labels}
    out = []
    for ph in phones:
        if str(ph.label).upper() not in want:
            continue
        idx = _segment_frames(ph.start, ph.end, fps=fps, n=len(closed), lead=lead_ms / 1000.0)
        if idx.size:
            out.append(bool(closed[idx].any()))
    return np.array(out, dtype=bool)


def bilabial_closure_rate(
    openness,
    phones,
    *,
    fps: float,
    threshold: float = 0.15,
    lead_ms: float = 60.0,
    labels: Iterable[str] = BILABIALS,
) -> tuple[float, int]:
    """Share of bilabial (/p b m/) segments in which the predicted mouth closes.

    A segment ``[start, end)`` (seconds, from forced alignment) counts as closed if
    any frame ``k`` with ``start - lead_ms / 1000 <= k / fps < end`` is closed by
    :func:`closed_frames` (openness in the lowest ``threshold`` of the clip's
    range). The lead allows the closure to come up to ``lead_ms`` before the
    acoustic segment, as real lips do (the closure precedes the burst of /p b/;
    set 0 to require it inside the segment). A segment shorter than a frame is
    represented by the frame nearest its centre.

    Parameters
    ----------
    openness : array_like, shape (T,)
        Predicted mouth openness (see :func:`mouth_openness`).
    phones : sequence of Phone-like
        Objects with ``label``, ``start``, ``end`` (seconds).
    fps : float
    threshold : float
    lead_ms : float
    labels : iterable of str
        Labels counted as bilabial (default P, B, M; matched upper-case).

    Returns
    -------
    rate : float
        In [0, 1]; NaN when there is no bilabial segment within the clip.
    n_segments : int
        Number of bilabial segments scored.
    """
    seg = bilabial_segments_closed(
        openness, phones, fps=fps, threshold=threshold, lead_ms=lead_ms, labels=labels
    )
    return (float(seg.mean()) if seg.size else float("nan")), int(seg.size)


# --------------------------------------------------------------------------- smoothness


def acceleration_energy(x, *, valid=None) -> float:
    """Mean squared second difference along time.

    Parameters
    ----------
    x : array_like, shape (T,) or (T, ...)
    valid : array_like of bool, shape (T,), optional
        A second difference counts only if its three frames are valid and finite.

    Returns
    -------
    float
        NaN when fewer than three consecutive valid frames.
    """
    a = as_float_array(x, "x")
    m = _frame_mask(valid, a.shape[0]) & _finite_rows(a)
    acc = np.diff(a, n=2, axis=0)
    mm = m[:-2] & m[1:-1] & m[2:] if len(m) >= 3 else np.zeros(0, bool)
    if not mm.any():
        return float("nan")
    return float(np.mean(acc[mm] ** 2))


def jitter_ratio(pred, true, *, valid=None) -> float:
    """Jitter: acceleration energy of the prediction relative to the ground truth.

    ``acceleration_energy(pred) / acceleration_energy(true)``: 1 for motion as
    smooth as real motion, > 1 for jittery predictions, < 1 for over-smoothed ones.
    Compare like with like (e.g. both openness tracks, or both normalised landmarks).

    Parameters
    ----------
    pred, true : array_like, shape (T,) or (T, ...)
        Same shape.
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    float
        NaN when the truth has no acceleration (or nothing is scored).
    """
    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    _same_shape(p, t, "pred", "true")
    m = _frame_mask(valid, t.shape[0]) & _finite_rows(p, t)
    et = acceleration_energy(t, valid=m)
    ep = acceleration_energy(p, valid=m)
    if not np.isfinite(et) or et <= 0:
        return float("nan")
    return ep / et


def silence_mask_from_phones(phones, *, n_frames: int, fps: float) -> np.ndarray:
    """Frames whose time ``k / fps`` falls in a silence phone (``SIL``, ``SP``, ...).

    Frames past the last phone count as silent.

    Returns
    -------
    ndarray of bool, shape (n_frames,)
    """
    from ..audio.phones import phones_to_frame_labels

    labs = phones_to_frame_labels(list(phones), n_frames=n_frames, fps=fps)
    return np.array([lab.upper() in _SILENCE_LABELS for lab in labs], dtype=bool)


def silence_motion(openness, silent, *, valid=None) -> float:
    """Mouth motion during silence relative to speech.

    ``mean|diff(openness)|`` over frame pairs both silent, divided by the same over
    pairs both in speech: ~0 for a mouth that is still in pauses, ~1 for one that
    moves as much in pauses as in speech.

    Parameters
    ----------
    openness : array_like, shape (T,)
        Predicted mouth openness.
    silent : array_like of bool, shape (T,)
        From :func:`silence_mask_from_phones` or :func:`silence_mask_from_energy`.
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    float
        NaN without both silent and speech frame pairs, or with no motion in speech.
    """
    o = as_float_array(openness, "openness").reshape(-1)
    s = np.asarray(silent).astype(bool).reshape(-1)
    _same_shape(o, s.astype(float), "openness", "silent")
    m = _frame_mask(valid, len(o)) & np.isfinite(o)
    if len(o) < 2:
        return float("nan")
    v = np.abs(np.diff(o))
    pair = m[:-1] & m[1:]
    sil = pair & s[:-1] & s[1:]
    sp = pair & ~s[:-1] & ~s[1:]
    if not sil.any() or not sp.any():
        return float("nan")
    speech = float(v[sp].mean())
    if speech <= 0:
        return float("nan")
    return float(v[sil].mean()) / speech
