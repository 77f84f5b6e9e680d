"""Statistics of a perceptual study: preference rates and mean opinion scores (pure Python).

* :func:`wilson_interval`: the Wilson score interval of a binomial proportion (Wilson 1927);
  better than the normal (Wald) interval for small ``n`` or rates near 0 / 1.
* :func:`binomial_test`: the exact two-sided binomial test of ``k`` of ``n`` against ``p0``.
* :func:`t_interval`: the Student-t interval of a mean.
* :func:`bootstrap_interval`: the percentile bootstrap interval of a mean (seeded).

Only :func:`t_interval` needs a t quantile; it uses scipy when installed (imported lazily)
and a Cornish-Fisher expansion otherwise (error < 1e-3 for 3 or more degrees of freedom).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from ..errors import InvalidArgumentError

__all__ = [
    "normal_quantile",
    "t_quantile",
    "wilson_interval",
    "binomial_test",
    "t_interval",
    "bootstrap_interval",
]


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 1:
        raise InvalidArgumentError(f"level={level!r} must be in (0, 1)")
    return level


def normal_quantile(p: float) -> float:
    """The standard normal quantile ``Phi^-1(p)`` (Acklam's rational approximation refined
    by one Halley step: about 1e-15 relative error)."""
    if not 0 < p < 1:
        raise InvalidArgumentError(f"p={p!r} must be in (0, 1)")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)  # fmt: skip
    lo = 0.02425
    if p < lo:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    elif p > 1 - lo:
        return -normal_quantile(1 - p)
    else:
        q = p - 0.5
        r = q * q
        x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
        )
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - p  # one Halley refinement
    u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


def t_quantile(p: float, df: float) -> float:
    """The Student-t quantile with ``df`` degrees of freedom (scipy when available)."""
    if df <= 0:
        raise InvalidArgumentError(f"df={df!r} must be > 0")
    try:
        from scipy.stats import t as _t
    except ImportError:  # Cornish-Fisher expansion around the normal quantile
        z = normal_quantile(p)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
        return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4
    return float(_t.ppf(p, df))


def wilson_interval(k: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n``.

    ``(p + z^2 / 2n +- z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)`` with
    ``p = k / n`` and ``z`` the ``(1 + level) / 2`` normal quantile.

    Parameters
    ----------
    k, n : int
        Successes and trials, ``0 <= k <= n``.
    level : float
        Confidence level (default 0.95).

    Returns
    -------
    (low, high) : tuple of float
        ``(nan, nan)`` when ``n == 0``.
    """
    level = _check_level(level)
    if n < 0 or not 0 <= k <= max(n, 0):
        raise InvalidArgumentError(f"k={k!r}, n={n!r} must satisfy 0 <= k <= n")
    if n == 0:
        return float("nan"), float("nan")
    z = normal_quantile(0.5 + level / 2)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_test(k: int, n: int, *, p0: float = 0.5) -> float:
    """Exact two-sided binomial test: the probability, under ``p0``, of an outcome no more
    likely than ``k`` (the sum of ``P(X = i)`` over ``i`` with ``P(X = i) <= P(X = k)``).

    Returns
    -------
    float
        The p-value in [0, 1]; NaN when ``n == 0``.
    """
    if n < 0 or not 0 <= k <= max(n, 0):
        raise InvalidArgumentError(f"k={k!r}, n={n!r} must satisfy 0 <= k <= n")
    if not 0 < p0 < 1:
        raise InvalidArgumentError(f"p0={p0!r} must be in (0, 1)")
    if n == 0:
        return float("nan")
    pmf = [math.comb(n, i) * p0**i * (1 - p0) ** (n - i) for i in range(n + 1)]
    ref = pmf[k] * (1 + 1e-7)
    return min(1.0, sum(q for q in pmf if q <= ref))


def _mean_sd(x: Sequence[float]) -> tuple[float, float]:
    n = len(x)
    m = sum(x) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1)) if n > 1 else float("nan")
    return m, sd


def t_interval(x: Sequence[float], *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval ``mean +- t_{(1+level)/2, n-1} s / sqrt(n)``.

    Returns
    -------
    (mean, low, high) : tuple of float
        ``low`` / ``high`` are NaN with fewer than two values (mean NaN with none).
    """
    level = _check_level(level)
    x = [float(v) for v in x]
    if not x:
        return float("nan"), float("nan"), float("nan")
    m, sd = _mean_sd(x)
    if len(x) < 2:
        return m, float("nan"), float("nan")
    half = t_quantile(0.5 + level / 2, len(x) - 1) * sd / math.sqrt(len(x))
    return m, m - half, m + half


def bootstrap_interval(
    x: Sequence[float], *, level: float = 0.95, n_boot: int = 10000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval of the mean (resampling values, seeded).

    The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles (linear interpolation) of
    ``n_boot`` means of resamples with replacement.

    Returns
    -------
    (mean, low, high) : tuple of float
    """
    level = _check_level(level)
    if n_boot < 1:
        raise InvalidArgumentError(f"n_boot={n_boot!r} must be >= 1")
    x = [float(v) for v in x]
    if not x:
        return float("nan"), float("nan"), float("nan")
    rng = random.Random(seed)
    n = len(x)
    means = sorted(sum(rng.choices(x, k=n)) / n for _ in range(n_boot))

    def q(p):
        pos = p * (len(means) - 1)
        i = int(math.floor(pos))
        j = min(i + 1, len(means) - 1)
        return means[i] + (pos - i) * (means[j] - means[i])

    return sum(x) / n, q((1 - level) / 2), q((1 + level) / 2)
