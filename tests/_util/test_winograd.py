"""Winograd F(4, r) residual stacks against the direct sum of products."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead._util import winograd
from talkinghead._util.winograd import relu_stack, transform_kernels, winograd_matrices
from talkinghead.errors import InvalidArgumentError


def _direct(h, ws, bs, dilations, causal):
    """``h += conv_d(relu(h)) + b`` in float64, one product per tap; returns relu(h)."""
    h = np.array(h, np.float64)  # (B, T, C)
    T = h.shape[1]
    for w, b, d in zip(ws, bs, dilations, strict=True):  # w: (B, C_out, C_in, k)
        k = w.shape[-1]
        p = (k - 1) * d
        left = p if causal else p // 2
        a = np.pad(np.maximum(h, 0), ((0, 0), (left, p - left), (0, 0)))
        acc = sum(np.einsum("btc,boc->bto", a[:, j * d : j * d + T], w[..., j]) for j in range(k))
        h = h + acc + b[:, None, :]
    return np.maximum(h, 0)


@pytest.mark.parametrize("m,r", [(4, 5), (4, 3), (2, 5), (1, 1)])
def test_matrices_compute_the_correlation(m, r):
    at, g, bt = winograd_matrices(m, r)
    rng = np.random.default_rng(0)
    f, x = rng.standard_normal(r), rng.standard_normal(m + r - 1)
    want = [f @ x[i : i + r] for i in range(m)]
    np.testing.assert_allclose(at @ ((g @ f) * (bt @ x)), want, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("T", [1, 2, 7, 64, 301])
def test_stack_matches_the_direct_convolution(causal, kernel, T, monkeypatch):
    monkeypatch.setattr(winograd, "_ROWS", 16)  # several chunks per block at T = 301
    rng = np.random.default_rng(T + kernel)
    B, C, dil = 3, 8, [1, 2, 4, 8, 1]
    ws = [rng.standard_normal((B, C, C, kernel)) * 0.2 for _ in dil]
    bs = [rng.standard_normal((B, C)) * 0.1 for _ in dil]
    h = rng.standard_normal((B, T, C)).astype(np.float32)
    got = relu_stack(h, [transform_kernels(w) for w in ws], bs, dil, kernel=kernel,
                     causal=causal)  # fmt: skip
    want = _direct(h, ws, bs, dil, causal)
    assert got.shape == (B, T, C) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * np.abs(want).max())


def test_single_stack_and_bad_kernels():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 6, 5)) * 0.2  # (C_out, C_in, k): one stack
    t = transform_kernels(w)
    assert t.shape == (8, 1, 6, 6)
    h = rng.standard_normal((1, 40, 6)).astype(np.float32)
    got = relu_stack(h, [t], [np.zeros((1, 6))], [3], kernel=5)
    np.testing.assert_allclose(got, _direct(h, [w[None]], [np.zeros((1, 6))], [3], False),
                               atol=1e-5)  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="kernel=7"):
        relu_stack(h, [t], [np.zeros((1, 6))], [1], kernel=7)
    with pytest.raises(InvalidArgumentError, match="w.shape"):
        transform_kernels(np.zeros((6, 5)))
