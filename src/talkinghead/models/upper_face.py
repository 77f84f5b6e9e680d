"""Building blocks of the procedural upper face (head motion, brows, blinks).

Shared by :mod:`talkinghead.models.expression` (the head, brows and blinks of an
:class:`~talkinghead.inference.Animation`) and :mod:`talkinghead.models.blendshape_bridge`
(the ARKit head motion). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from .._util.stats import quantile

__all__ = ["gauss_filter", "smooth_noise", "emphasis"]


def gauss_filter(x: np.ndarray, sigma: float) -> np.ndarray:
    """``x`` (T,) convolved with a unit-sum Gaussian of ``sigma`` frames (>= 0.5; edges held)."""
    sigma = max(float(sigma), 0.5)
    half = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    k /= k.sum()
    xp = np.pad(x, half, mode="edge")
    return np.convolve(xp, k, mode="valid")


def smooth_noise(rng, n_frames: int, fps: float, seconds: float) -> np.ndarray:
    """Unit-std Gaussian-filtered noise, shape (n_frames,)."""
    sigma = max(seconds * fps, 1.0)
    half = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    x = rng.standard_normal(n_frames + 2 * half)
    y = np.convolve(x, k / k.sum(), mode="valid")[:n_frames]
    sd = y.std()
    return y / sd if sd > 0 else y


def emphasis(energy: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(emphasis, slow level): energy above its 0.8 s average, both in [0, 1]."""
    e = np.nan_to_num(np.asarray(energy, np.float64))
    hi = quantile(e, 0.95) if len(e) else 1.0
    e = np.clip(e / hi, 0, 1) if hi > 0 else np.zeros_like(e)
    slow = gauss_filter(e, 0.8 * fps)
    emph = np.clip(gauss_filter(e, 0.12 * fps) - slow, 0, None)
    return emph, slow
