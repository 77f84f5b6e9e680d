"""Fast numpy inference of residual stacks of dilated 1-D convolutions (Winograd).

The student front end (:mod:`talkinghead.models.student`) and the mouth networks
(:mod:`talkinghead.models.mouth`) are stacks of blocks ``h += conv_d(relu(h)) + b`` with
kernel 5 and dilation ``d``. Run as one matrix product per tap, a block costs ``5 C^2``
multiply-adds per frame, and the student's eight blocks are ~90 % of its time, at the core's
float32 peak already. The minimal filtering algorithm F(m, r) of Winograd (Lavin & Gray 2016,
"Fast algorithms for convolutional neural networks", in 1-D) computes ``m`` outputs of an
``r``-tap filter from ``m + r - 1`` products instead of ``m r``: with F(4, 5), eight channel
products per four frames instead of twenty, 2.5x fewer multiply-adds, the rest being cheap
transforms of the input (``BT``) and the output (``AT``) along time. The kernels are
transformed once (``G``, in float64).

Dilation ``d``: output ``t = s m d + q d + p`` (tile ``s``, position ``q`` in the tile, phase
``p``) reads inputs ``t + (j - left / d) d``, so every (tile, phase) pair is one undilated
Winograd tile on the phase's subsequence. Arrays are time-major (frames, channels): each
gathered tile row is one contiguous channel vector, and the products are ``(rows, C) @ (C,
C)`` matrix products.

Rounding: the transforms use the points 0, +-1, +-2, +-1/2 (F(4, 5)), whose float32 rounding
moves the outputs by ~1e-6 of their range (measured on the shipped student: 9e-7 of the
largest feature; ``tests/_util/test_winograd.py`` checks random stacks against the direct
sum of products).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["winograd_matrices", "transform_kernels", "relu_stack", "TILE", "KERNELS"]

#: Outputs per Winograd tile (F(4, r)).
TILE = 4
#: Kernel sizes the fast path supports (odd; larger kernels need points that round worse).
KERNELS = (3, 5)
_POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5)
_ROWS = 256  # tile rows (frames / TILE) per chunk: bounded work arrays for long inputs
_MATS: dict = {}


def winograd_matrices(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``AT`` (m, n), ``G`` (n, r), ``BT`` (n, n) of F(m, r), ``n = m + r - 1``, float64.

    ``y = AT @ ((G @ g) * (BT @ x))`` is the correlation ``y_i = sum_k g_k x_{i + k}`` of an
    ``r``-tap filter ``g`` with ``n`` inputs ``x`` (modified Toom-Cook on the points 0, +-1,
    +-2, +-1/2 and infinity, transposed from the linear convolution).
    """
    m, r = int(m), int(r)
    n = m + r - 1
    if m < 1 or r < 1 or n - 1 > len(_POINTS):
        raise InvalidArgumentError(f"m={m}, r={r} must give m + r - 2 <= {len(_POINTS)} points")
    key = (m, r)
    if key not in _MATS:
        a = np.array(_POINTS[: n - 1], np.float64)
        ag, ah, v = np.zeros((n, r)), np.zeros((n, m)), np.zeros((n, n))
        for j, x in enumerate(a):
            ag[j], ah[j], v[j] = x ** np.arange(r), x ** np.arange(m), x ** np.arange(n)
        ag[-1, -1] = ah[-1, -1] = v[-1, -1] = 1.0  # the point at infinity: leading terms
        _MATS[key] = (ah.T.copy(), ag, np.linalg.inv(v).T.copy())
    return _MATS[key]


def transform_kernels(w: np.ndarray, m: int = TILE) -> np.ndarray:
    """Kernels ``(B, C_out, C_in, r)`` (or ``(C_out, C_in, r)``: B = 1) -> ``G``-transformed,
    time-major ``(n, B, C_in, C_out)`` float32, for :func:`relu_stack`."""
    w = np.asarray(w, np.float64)
    if w.ndim == 3:
        w = w[None]
    if w.ndim != 4:
        raise InvalidArgumentError(f"w.shape={w.shape} must be (B, C_out, C_in, r)")
    _, g, _ = winograd_matrices(m, w.shape[-1])
    return np.ascontiguousarray(np.einsum("kj,boij->kbio", g, w), dtype=np.float32)


def relu_stack(
    h: np.ndarray,
    kernels: list[np.ndarray],
    biases: list[np.ndarray],
    dilations: list[int],
    *,
    kernel: int,
    causal: bool = False,
) -> np.ndarray:
    """Run ``h += conv_d(relu(h)) + b`` block by block; return ``relu(h)`` of the last ``h``.

    Parameters
    ----------
    h : np.ndarray, float32, shape (B, T, C)
        Time-major input of B independent stacks (e.g. ensemble members) of the same shape.
    kernels : list of np.ndarray
        Per block, :func:`transform_kernels` of its ``(B, C, C, kernel)`` weights.
    biases : list of np.ndarray
        Per block, ``(B, C)``.
    dilations : list of int
    kernel : int
        Odd, one of :data:`KERNELS`.
    causal : bool
        Zero padding on the left only (``(kernel - 1) d``) instead of centred.

    Returns
    -------
    np.ndarray, float32, shape (B, T, C)
        ``relu`` of the stack's output (a view of a zero-padded work buffer).
    """
    if kernel not in KERNELS:
        raise InvalidArgumentError(f"kernel={kernel} must be one of {KERNELS}")
    h = np.asarray(h, np.float32)
    b_, n, c = h.shape
    m = TILE
    at, _, bt = winograd_matrices(m, kernel)
    at, bt = at.astype(np.float32), bt.astype(np.float32)
    nt = m + kernel - 1
    ds = [int(d) for d in dilations]
    lefts = [(kernel - 1) * d if causal else (kernel - 1) * d // 2 for d in ds]
    padl = max(lefts, default=0)
    big = max(ds, default=1)
    n_pad = max((-(-n // (m * d)) * m * d for d in ds), default=n)
    hp = np.empty((b_, n_pad, c), np.float32)
    hp[:, :n] = h
    hp[:, n:] = 0.0
    buf = np.zeros((b_, padl + n_pad + nt * big, c), np.float32)  # margins stay zero
    a = buf[:, padl : padl + n]
    rows_max = max((min(max(1, _ROWS // d), -(-n // (m * d))) * d for d in ds), default=1)
    work = np.empty((3, nt * b_ * rows_max * c), np.float32)
    for i, d in enumerate(ds):
        np.maximum(hp[:, :n], 0, out=a)
        off = padl - lefts[i]
        bias = np.asarray(biases[i], np.float32)[:, None, :]  # (B, 1, C)
        n_tiles = -(-n // (m * d))
        step = max(1, _ROWS // d)
        for s0 in range(0, n_tiles, step):
            s1 = min(n_tiles, s0 + step)
            rows, size = (s1 - s0) * d, nt * b_ * (s1 - s0) * d * c
            t0, t1 = s0 * m * d, s1 * m * d
            g = work[0, :size].reshape(nt, b_, s1 - s0, d, c)
            for k in range(nt):  # tile inputs k of every (tile, phase): contiguous rows
                src = buf[:, off + k * d + t0 : off + k * d + t1]
                g[k] = src.reshape(b_, s1 - s0, m * d, c)[:, :, :d]
            v = work[1, :size].reshape(nt, -1)
            np.matmul(bt, g.reshape(nt, -1), out=v)
            p = work[2, :size].reshape(nt, b_, rows, c)
            np.matmul(v.reshape(nt, b_, rows, c), kernels[i], out=p)
            p[1] += bias  # AT's column of the point 1 is all ones: the bias reaches every output
            y = work[0, : size // nt * m].reshape(m, -1)
            np.matmul(at, p.reshape(nt, -1), out=y)
            out = hp[:, t0:t1].reshape(b_, s1 - s0, m, d, c)
            out += y.reshape(m, b_, s1 - s0, d, c).transpose(1, 2, 0, 3, 4)
    np.maximum(hp[:, :n], 0, out=a)
    return a
