"""Building blocks of the procedural upper face (head motion, brows, blinks).

Shared by :mod:`talkinghead.models.expression` (the head, brows and blinks of an
:class:`~talkinghead.inference.Animation`) and :mod:`talkinghead.models.blendshape_bridge`
(the ARKit head motion): :func:`head_motion` is the one head generator. Pure numpy.
"""

from __future__ import annotations

import numpy as np

from .._util.stats import quantile

__all__ = ["HEAD_SD", "NOD_GAIN", "gauss_filter", "smooth_noise", "emphasis", "head_motion"]

#: Head-motion standard deviations (radians) of the seeded slow drift: yaw, pitch, roll.
HEAD_SD = (0.016, 0.025, 0.016)
#: Nod (pitch, radians) per unit of smoothed speech emphasis.
NOD_GAIN = 0.1


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


def head_motion(
    rng: np.random.Generator, n_frames: int, fps: float, energy: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one procedural head: ``(yaw, pitch, roll)`` in radians, each shape (n_frames,).

    A seeded slow drift (:data:`HEAD_SD`; correlation times 0.9, 0.7, 1.2 s, drawn from
    ``rng`` in that order; soft-limited to 2.5 sd) plus nods (:data:`NOD_GAIN`) on the
    emphasis (:func:`emphasis`) of ``energy`` (T,), when given.
    """
    lim = lambda x: 2.5 * np.tanh(x / 2.5)  # noqa: E731
    yaw = HEAD_SD[0] * lim(smooth_noise(rng, n_frames, fps, 0.9))
    pitch = HEAD_SD[1] * lim(smooth_noise(rng, n_frames, fps, 0.7))
    roll = HEAD_SD[2] * lim(smooth_noise(rng, n_frames, fps, 1.2))
    if energy is not None:
        emph, _ = emphasis(energy, fps)
        pitch = pitch + NOD_GAIN * gauss_filter(emph, 0.1 * fps)
    return yaw, pitch, roll
