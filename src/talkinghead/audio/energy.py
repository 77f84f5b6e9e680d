"""Audio energy per video frame: frame RMS, smoothing, the energy silence gate.

One home for the uses of loudness in the package:

* :func:`frame_rms` - the RMS of each video frame's own samples ``[k/fps, (k+1)/fps)``
  (corpus QC, the audio-video offset estimate);
* :func:`rms_envelope` - the RMS over a 1/fps window centred on each frame time,
  optionally smoothed (the energy baseline, the silence gate);
* :func:`smooth` - a NaN-aware centred moving average over a window in ms;
* :func:`silence_mask_from_energy` - frames far below the clip's loudest (the default
  model's silence gate, the silence-motion metric).

Pure numpy.
"""

from __future__ import annotations

import numpy as np

from .._util.stats import quantile
from ..errors import InvalidArgumentError, as_float_array, check_positive

__all__ = ["mono", "frame_rms", "rms_envelope", "smooth", "silence_mask_from_energy"]


def mono(y) -> np.ndarray:
    """``y`` as float64 mono: shape (n,) kept, (channels, n) averaged over channels."""
    a = np.asarray(y, dtype=np.float64)
    if a.ndim == 2:
        a = a.mean(axis=0)
    if a.ndim != 1:
        raise InvalidArgumentError(f"y.shape={a.shape} must be (n,) or (channels, n)")
    return a


def frame_rms(*, y: np.ndarray, sr: float, fps: float, n_frames: int) -> np.ndarray:
    """RMS of the samples of each video frame ``[t/fps, (t+1)/fps)``.

    Returns
    -------
    np.ndarray, float64, shape (n_frames,)
        Zero for frames past the end of ``y``.
    """
    y = np.asarray(y).reshape(-1)
    edges = np.floor(np.arange(n_frames + 1) * (sr / fps) + 0.5).astype(np.int64)
    edges = np.clip(edges, 0, len(y))
    # == concatenate([[0], cumsum(float64(y) ** 2)]) with two arrays of len(y), not four
    c = np.empty(len(y) + 1)
    c[0] = 0.0
    np.cumsum(np.square(y, dtype=np.float64), out=c[1:])
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    return np.sqrt(np.maximum(c[edges[1:]] - c[edges[:-1]], 0.0) / counts)


def rms_envelope(*, y, sr: int, fps: float, n_frames: int, smooth_ms: float = 40.0) -> np.ndarray:
    """RMS of the audio around each video frame time, optionally smoothed.

    Frame ``k`` gets the RMS of the samples in ``[k/fps - 0.5/fps, k/fps + 0.5/fps)``
    (zero-padded at the edges), then a centred moving average over ``smooth_ms``
    (computed on a 5 ms sub-frame grid so that the window is honoured at any fps).

    Parameters
    ----------
    y : array_like, shape (n,) or (channels, n)
    sr : int
    fps : float
    n_frames : int
    smooth_ms : float
        0 disables smoothing.

    Returns
    -------
    ndarray, shape (n_frames,), float64
    """
    sr = check_positive("sr", sr)
    fps = check_positive("fps", fps)
    x = mono(y)
    n_frames = int(n_frames)
    if n_frames < 0:
        raise InvalidArgumentError(f"n_frames={n_frames!r} must be >= 0")
    hop = 0.005
    sub = max(1, int(round(1.0 / (fps * hop))))  # sub-frames per video frame
    step = 1.0 / (fps * sub)
    n_sub = n_frames * sub
    half = int(round(0.5 * sr / fps))
    csum = np.empty(len(x) + 1)  # == concatenate([[0], cumsum(x * x)]), two arrays not four
    csum[0] = 0.0
    np.cumsum(np.square(x), out=csum[1:])
    t = (np.arange(n_sub) - (sub - 1) / 2.0) * step  # sub-frame centres around k / fps
    c = np.round(t * sr).astype(np.int64)
    lo, hi = np.clip(c - half, 0, len(x)), np.clip(c + half, 0, len(x))
    win = max(2 * half, 1)
    env = np.sqrt(np.maximum(csum[hi] - csum[lo], 0.0) / win)
    if smooth_ms > 0 and n_sub:
        env = smooth(env, fps=1.0 / step, window_ms=smooth_ms)
    if not n_sub:
        return np.zeros(0)
    return env.reshape(n_frames, sub).mean(axis=1)


def smooth(x, *, fps: float, window_ms: float) -> np.ndarray:
    """Centred moving average over ``window_ms`` (NaN-aware, edges use what exists).

    Parameters
    ----------
    x : array_like, shape (T,) or (T, ...)
    fps : float
    window_ms : float
        Window length in ms; rounded to an odd number of frames (>= 1).

    Returns
    -------
    ndarray, same shape as ``x``, float64
    """
    fps = check_positive("fps", fps)
    x = as_float_array(x, "x")
    w = max(1, int(round(window_ms * fps / 1000.0)))
    if w % 2 == 0:
        w += 1
    if w == 1 or x.shape[0] == 0:
        return x.copy()
    flat = x.reshape(x.shape[0], -1)
    ok = np.isfinite(flat)
    vals = np.where(ok, flat, 0.0)
    kern = np.ones(w)
    num = np.stack([np.convolve(vals[:, j], kern, mode="same") for j in range(flat.shape[1])], 1)
    cnt = np.stack(
        [np.convolve(ok[:, j].astype(float), kern, mode="same") for j in range(flat.shape[1])], 1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(cnt > 0, num / np.maximum(cnt, 1e-300), np.nan)
    return out.reshape(x.shape)


# --------------------------------------------------------------------------- errors


def silence_mask_from_energy(
    *, y, sr: int, fps: float, n_frames: int, threshold_db: float = -35.0
) -> np.ndarray:
    """Energy voice-activity detection: frames more than ``-threshold_db`` dB below the loudest.

    The RMS over a 1/fps window centred on each frame time, in dB relative to the
    clip's 99th-percentile frame RMS; a frame is silent below ``threshold_db``.

    Returns
    -------
    ndarray of bool, shape (n_frames,)
    """
    env = rms_envelope(y=y, sr=sr, fps=fps, n_frames=n_frames, smooth_ms=0.0)
    ref = max(quantile(env, 0.99) if env.size else 0.0, 1e-10)  # np.percentile(env, 99)
    db = 20 * np.log10(np.maximum(env, 1e-10) / ref)
    return db < threshold_db
