"""Statistics with no talking-head knowledge, shared by corpus QC, the recipes and the
evaluator: Pearson r, the lag of the best cross-correlation of two per-frame series, a
quantile, and the closed frames of a mouth-opening series (the rule of the /p b m/ score, also
used by the mouth recipe's closure-aware loss).

:func:`quantile`: ``numpy.quantile``, ``numpy.percentile`` and ``numpy.median`` call
``numpy.unique``, whose first call imports ``numpy.ma`` (~15 ms of CPU, a few percent of a
short command); the default animation path needs only a linear-interpolation quantile of a
1-D array, which :func:`numpy.partition` gives without it.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, as_float_array, check_positive

__all__ = ["pearson_r", "lagged_r", "sync_offset", "quantile", "closed_frames"]


def pearson_r(a, b) -> float:
    """Pearson correlation of two 1-D series, skipping non-finite pairs.

    Parameters
    ----------
    a, b : array_like, shape (T,)

    Returns
    -------
    float
        In [-1, 1]; 0.0 when either series is constant (zero variance) or fewer
        than two finite pairs remain.
    """
    a = as_float_array(a, "a").reshape(-1)
    b = as_float_array(b, "b").reshape(-1)
    if a.shape != b.shape:
        raise InvalidArgumentError(f"a.shape={a.shape} must equal b.shape={b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return 0.0
    a, b = a[ok], b[ok]
    sa, sb = float(np.abs(a).max()), float(np.abs(b).max())
    a = a - a.mean()
    b = b - b.mean()
    va, vb = float(a @ a), float(b @ b)
    n = len(a)
    if va <= (1e-9 * sa) ** 2 * n or vb <= (1e-9 * sb) ** 2 * n or va == 0 or vb == 0:
        return 0.0  # a constant series (up to rounding) has no correlation
    return float(np.clip(float(a @ b) / math.sqrt(va * vb), -1.0, 1.0))


def quantile(x, q: float) -> float:
    """The ``q``-quantile of the values of ``x`` (``numpy.quantile``'s default ``"linear"``).

    Parameters
    ----------
    x : array_like, any shape (flattened), at least one value
    q : float in [0, 1]

    Returns
    -------
    float
        NaN if ``x`` holds a NaN (as ``numpy.quantile``).
    """
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise InvalidArgumentError("x.size=0 must be at least 1 (the quantile of no values)")
    if not 0.0 <= float(q) <= 1.0:
        raise InvalidArgumentError(f"q={q!r} must be in [0, 1]")
    if np.isnan(a).any():
        return float("nan")
    pos = float(q) * (a.size - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, a.size - 1)
    part = np.partition(a, [lo, hi]) if hi != lo else np.partition(a, lo)
    lo_v, hi_v = float(part[lo]), float(part[hi])
    t = pos - lo
    # numpy's _lerp: a + t (b - a), computed from the nearer end for t >= 0.5
    return hi_v - (hi_v - lo_v) * (1.0 - t) if t >= 0.5 else lo_v + (hi_v - lo_v) * t


def lagged_r(p: np.ndarray, t: np.ndarray, k: int) -> float:
    """Pearson r between ``p[i + k]`` and ``t[i]`` (k > 0: ``p`` is late); 0 when the
    overlap is shorter than two samples.

    Parameters
    ----------
    p, t : ndarray, shape (n,)
    k : int
    """
    n = len(p)
    if abs(k) >= n - 1:
        return 0.0
    if k >= 0:
        return pearson_r(p[k:], t[: n - k])
    return pearson_r(p[: n + k], t[-k:])


def sync_offset(
    pred_open,
    true_open,
    *,
    fps: float,
    max_lag_ms: float = 200.0,
    valid=None,
    subframe: bool = False,
) -> tuple[float, float]:
    """Lip-sync offset: the lag (ms) maximising r(prediction shifted, truth).

    ``r(k) = pearson(pred[t + k], true[t])`` for integer ``k`` with
    ``|k| * 1000 / fps <= max_lag_ms``; the offset is ``k* * 1000 / fps`` for the
    ``k*`` of the largest r. **Positive = the prediction is late** (it shows at
    frame ``t + k`` what the truth shows at ``t``).

    With ``subframe=True`` a parabola is fitted through ``r(k*-1), r(k*), r(k*+1)``
    and its vertex ``k* + (r[-1] - r[+1]) / (2 (r[-1] - 2 r[0] + r[+1]))`` (clipped
    to +-0.5 frame) gives a fractional lag; at the edge of the search range, or
    when the three points are not concave, the integer lag is kept.

    Parameters
    ----------
    pred_open, true_open : array_like, shape (T,)
    fps : float
    max_lag_ms : float
        Search range (default 200 ms).
    valid : array_like of bool, shape (T,), optional
        Frames with a tracked true face (invalid frames are set to NaN and skipped).
    subframe : bool

    Returns
    -------
    offset_ms : float
    r_peak : float
        The correlation at the integer peak.
    """
    fps = check_positive("fps", fps)
    p = as_float_array(pred_open, "pred_open")
    t = as_float_array(true_open, "true_open").copy()
    if p.shape != t.shape:
        raise InvalidArgumentError(
            f"pred_open.shape={p.shape} must equal true_open.shape={t.shape}"
        )
    if valid is not None:
        v = np.asarray(valid).astype(bool).reshape(-1)
        if v.shape[0] != len(t):
            raise InvalidArgumentError(
                f"valid has {v.shape[0]} frames; expected {len(t)} (one per frame)"
            )
        t[~v] = np.nan
    kmax = int(math.floor(max_lag_ms * fps / 1000.0 + 1e-9))
    lags = np.arange(-kmax, kmax + 1)
    rs = np.array([lagged_r(p, t, int(k)) for k in lags])
    i = int(np.argmax(rs))  # ties -> the most negative lag; prefer the smallest |lag|
    best = rs[i]
    ties = np.flatnonzero(rs >= best - 1e-12)
    i = int(ties[np.argmin(np.abs(lags[ties]))])
    k = float(lags[i])
    if subframe and 0 < i < len(rs) - 1:
        a, b, c = rs[i - 1], rs[i], rs[i + 1]
        den = a - 2 * b + c
        if den < 0:
            k += float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return k * 1000.0 / fps, float(rs[i])


def closed_frames(openness, *, threshold: float = 0.15) -> np.ndarray:
    """Frames where the mouth is closed, relative to the clip's own range.

    A frame is closed when ``openness <= lo + threshold * (hi - lo)`` with ``lo``,
    ``hi`` the 2nd and 98th percentiles of the clip's finite openness (robust to a
    few tracking outliers). A clip whose range is zero counts as closed throughout
    if its openness is ~0, else open throughout.

    Parameters
    ----------
    openness : array_like, shape (T,)
    threshold : float
        Fraction of the range, in [0, 1).

    Returns
    -------
    ndarray of bool, shape (T,)
    """
    o = as_float_array(openness, "openness").reshape(-1)
    if not 0 <= threshold < 1:
        raise InvalidArgumentError(f"threshold={threshold!r} must be in [0, 1)")
    fin = np.isfinite(o)
    if not fin.any():
        return np.zeros(len(o), dtype=bool)
    lo, hi = np.percentile(o[fin], [2, 98])
    if hi - lo <= 1e-12 * max(abs(hi), 1.0):
        return fin & (np.abs(o) <= 1e-6)
    return fin & (o <= lo + threshold * (hi - lo))
