"""Statistics with no talking-head knowledge, shared by the recipes and the evaluator."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, as_float_array

__all__ = ["pearson_r"]


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
