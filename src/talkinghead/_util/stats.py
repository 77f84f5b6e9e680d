"""Statistics with no talking-head knowledge, shared by the recipes and the evaluator.

:func:`quantile`: ``numpy.quantile``, ``numpy.percentile`` and ``numpy.median`` call
``numpy.unique``, whose first call imports ``numpy.ma`` (~15 ms of CPU, a few percent of a
short command); the default animation path needs only a linear-interpolation quantile of a
1-D array, which :func:`numpy.partition` gives without it.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, as_float_array

__all__ = ["pearson_r", "quantile"]


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
