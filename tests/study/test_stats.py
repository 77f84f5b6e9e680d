"""Known-answer tests of the study statistics (worked by hand in the comments)."""

from __future__ import annotations

import math

import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.study import stats as S


def test_normal_and_t_quantiles():
    assert S.normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-12)
    assert S.normal_quantile(0.5) == pytest.approx(0.0, abs=1e-15)
    assert S.normal_quantile(0.001) == pytest.approx(-3.090232306167813, rel=1e-10)
    # t tables: t(0.975; 4) = 2.776445, t(0.975; 9) = 2.262157
    assert S.t_quantile(0.975, 4) == pytest.approx(2.776445, abs=1e-6)
    assert S.t_quantile(0.975, 9) == pytest.approx(2.262157, abs=1e-6)


def test_t_quantile_without_scipy(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_scipy(name, *a, **k):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    assert S.t_quantile(0.975, 9) == pytest.approx(2.262157, abs=2e-3)
    assert S.t_quantile(0.975, 30) == pytest.approx(2.042272, abs=1e-4)


def test_wilson_interval_8_of_10():
    # p = 0.8, z^2 = 3.841459: centre (0.8 + 0.192073) / 1.384146 = 0.716740,
    # half 1.959964 * sqrt(0.016 + 0.009604) / 1.384146 = 0.226567
    lo, hi = S.wilson_interval(8, 10)
    assert lo == pytest.approx(0.490162, abs=1e-5)
    assert hi == pytest.approx(0.943318, abs=1e-5)
    # 0 of 5: [0, z^2 / (n + z^2)] = [0, 3.841459 / 8.841459]
    lo, hi = S.wilson_interval(0, 5)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert hi == pytest.approx(3.841459 / 8.841459, rel=1e-6)
    assert all(math.isnan(v) for v in S.wilson_interval(0, 0))
    with pytest.raises(InvalidArgumentError):
        S.wilson_interval(6, 5)
    with pytest.raises(InvalidArgumentError):
        S.wilson_interval(1, 5, level=1.5)


def test_binomial_test():
    # 8 of 10 against 0.5: P(X >= 8) = (45 + 10 + 1) / 1024, doubled by symmetry
    assert S.binomial_test(8, 10) == pytest.approx(112 / 1024)
    assert S.binomial_test(5, 10) == pytest.approx(1.0)
    # 10 of 10: 2 / 1024
    assert S.binomial_test(10, 10) == pytest.approx(2 / 1024)
    # asymmetric p0: 3 of 3 at p0 = 0.9 -> only outcomes with pmf <= 0.729: all of them
    assert S.binomial_test(3, 3, p0=0.9) == pytest.approx(1.0)
    # 0 of 3 at p0 = 0.9: pmf 0.001 is the least likely outcome -> p = 0.001
    assert S.binomial_test(0, 3, p0=0.9) == pytest.approx(0.001)


def test_t_interval_1_to_5():
    # mean 3, s = sqrt(2.5), se = sqrt(0.5); half = 2.776445 * 0.707107 = 1.963243
    m, lo, hi = S.t_interval([1, 2, 3, 4, 5])
    assert m == 3.0
    assert lo == pytest.approx(3 - 1.963243, abs=1e-5) and hi == pytest.approx(4.963243, abs=1e-5)
    m, lo, hi = S.t_interval([4])
    assert m == 4.0 and math.isnan(lo) and math.isnan(hi)


def test_bootstrap_interval():
    # constant ratings: every resample mean is 4
    assert S.bootstrap_interval([4, 4, 4, 4]) == (4.0, 4.0, 4.0)
    # two values 1 and 5: resample means are 1, 3, 5 with probabilities 1/4, 1/2, 1/4, so
    # the 2.5 % and 97.5 % quantiles are 1 and 5, and the median is 3
    m, lo, hi = S.bootstrap_interval([1, 5], n_boot=4000, seed=1)
    assert (m, lo, hi) == (3.0, 1.0, 5.0)
    _, lo50, hi50 = S.bootstrap_interval([1, 5], level=0.5, n_boot=4000, seed=1)
    assert lo50 == 3.0 and hi50 == 3.0
    # seeded: the same seed gives the same interval
    x = [1, 2, 2, 3, 4, 5, 5, 3]
    assert S.bootstrap_interval(x, seed=7) == S.bootstrap_interval(x, seed=7)
    m, lo, hi = S.bootstrap_interval(x, seed=7)
    tm, tlo, thi = S.t_interval(x)
    # the percentile bootstrap of a small sample is narrower than the t interval (plug-in
    # sd and normal-like quantiles): [2.25, 4.0] inside [1.91, 4.34] here
    assert tm == m and tlo < lo < m < hi < thi
