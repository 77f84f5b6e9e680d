"""Window helpers shared by the offline feature functions and the streaming animators.

A row ``t`` of a feature set at frame rate ``fps`` reads the window centred on the frame
centre ``(t + 0.5) / fps`` (:func:`centred_starts`); :func:`gather_windows` cuts those
windows out of a signal (zeros outside it), vectorised, so that a stream that holds only
the recent samples computes exactly the rows of the offline pass.
"""

from __future__ import annotations

import numpy as np

__all__ = ["round_index", "centred_starts", "gather_windows", "hann", "next_pow2"]


def round_index(x) -> np.ndarray:
    """Sample positions rounded half up to int64 indices (``floor(x + 0.5)``, no banker's
    rounding, so that the timing is deterministic)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def centred_starts(t, *, sr: float, fps: float, win: int) -> np.ndarray:
    """First sample of the ``win``-sample window centred on video frame ``t``'s centre.

    Parameters
    ----------
    t : array_like of int, shape (...)
        Frame indices.
    sr, fps : float
        Sampling rate and frame rate.
    win : int
        Window length in samples.

    Returns
    -------
    np.ndarray of int64, shape (...)
        ``floor((t + 0.5) sr / fps - win / 2 + 0.5)``.
    """
    t = np.asarray(t, dtype=np.float64)
    return round_index((t + 0.5) * float(sr) / float(fps) - int(win) / 2.0)


def gather_windows(y: np.ndarray, starts, win_length: int) -> np.ndarray:
    """Windows ``y[s : s + win_length]`` for every start ``s``, zeros outside ``y``.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    starts : array_like of int, shape (...)
        May be negative or past the end (those samples read as zeros).
    win_length : int

    Returns
    -------
    np.ndarray, shape (..., win_length), dtype of ``y``
        A copy (fancy indexing of a strided view; no Python loop).
    """
    starts = np.asarray(starts, dtype=np.int64)
    if starts.size == 0:
        return np.zeros((*starts.shape, win_length), dtype=y.dtype)
    lo = min(0, int(starts.min()))
    hi = max(len(y), int(starts.max()) + win_length)
    pad_left = -lo
    if lo == 0 and hi == len(y):
        padded = y
    else:
        padded = np.zeros(hi - lo, dtype=y.dtype)
        padded[pad_left : pad_left + len(y)] = y
    view = np.lib.stride_tricks.sliding_window_view(padded, win_length)
    return view[starts + pad_left]


def hann(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` samples (``scipy.signal.get_window('hann', n)``,
    librosa's and Whisper's default), float64, shape (n,)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def next_pow2(n: int) -> int:
    """The smallest power of two >= ``n`` (1 for ``n <= 1``)."""
    return 1 << max(0, int(n - 1).bit_length())
