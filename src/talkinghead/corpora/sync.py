"""Audio-video offset of a real talking-face video, measured with the speech animator.

Some real clips are out of sync (``uncrop_Obama.mp4`` in ``../shared/data``: the sound
comes ~240 ms after the lips move). Cross-correlating the tracked lip aperture with the
mouth opening the default model predicts from the audio finds such offsets far more
sharply than the audio envelope of :func:`talkinghead.corpora.qc.estimate_av_offset`
(on that clip: r 0.55 at the peak vs 0.18 at lag 0). Corpus QC reports it and
:func:`talkinghead.personalize` uses it to align the person's audio with their frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["SyncEstimate", "speech_sync_offset", "shift_audio"]


@dataclass
class SyncEstimate:
    """Result of :func:`speech_sync_offset`.

    Attributes
    ----------
    offset_s : float
        Seconds the audio comes after the matching mouth motion (positive: audio late).
        0 when the estimate is not ``reliable``.
    measured_s : float
        The lag of the correlation peak, reliable or not.
    r_peak, r_zero : float
        Correlation at the peak and at lag 0.
    reliable : bool
        ``r_peak >= min_r`` and ``r_peak - r_zero >= min_gain``.
    """

    offset_s: float
    measured_s: float
    r_peak: float
    r_zero: float
    reliable: bool

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


def speech_sync_offset(
    *,
    y: np.ndarray,
    sr: int,
    fps: float,
    mouth_open: np.ndarray,
    valid: np.ndarray | None = None,
    max_lag_ms: float = 500.0,
    min_r: float = 0.3,
    min_gain: float = 0.1,
    model: str = "default",
) -> SyncEstimate:
    """Estimate how late the audio is relative to the tracked mouth of a video.

    Parameters
    ----------
    y : ndarray, shape (n,)
        The video's audio, mono.
    sr : int
    fps : float
        The video's frame rate.
    mouth_open : ndarray, shape (T,)
        Tracked lip aperture per frame (e.g. from
        :func:`talkinghead.face.landmarks68.mouth_openness_68`).
    valid : ndarray of bool, shape (T,), optional
        Frames with a tracked face.
    max_lag_ms : float
        Search range.
    min_r, min_gain : float
        Reliability thresholds (see :class:`SyncEstimate`).
    model : str
        The animator whose predicted mouth opening is correlated.

    Returns
    -------
    SyncEstimate
    """
    from .._util.stats import lagged_r, sync_offset
    from ..models.shipped import animate_samples

    m = np.asarray(mouth_open, dtype=np.float64).reshape(-1)
    T = len(m)
    if T < 10:
        raise InvalidArgumentError(f"mouth_open has {T} frames; must have >= 10")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise InvalidArgumentError(f"y.shape={y.shape} must be 1-D (mono samples)")
    anim = animate_samples(y, sr=int(sr), fps=float(fps), n_frames=T, model=model)
    pred = np.asarray(anim.mouth_open, dtype=np.float64)
    off_ms, r_peak = sync_offset(pred, m, fps=fps, max_lag_ms=max_lag_ms, valid=valid,
                                 subframe=True)  # fmt: skip
    t = m.copy()
    if valid is not None:
        t[~np.asarray(valid, dtype=bool)] = np.nan
    r_zero = float(lagged_r(pred, t, 0))
    ok = bool(math.isfinite(r_peak) and r_peak >= min_r and r_peak - r_zero >= min_gain)
    off = off_ms / 1000.0
    return SyncEstimate(offset_s=off if ok else 0.0, measured_s=off, r_peak=float(r_peak),
                        r_zero=r_zero, reliable=ok)  # fmt: skip


def shift_audio(y: np.ndarray, *, sr: int, offset_s: float) -> np.ndarray:
    """Undo an audio delay: samples ``offset_s`` later move to the start (``offset_s`` < 0:
    silence is prepended). Returns a (n,) array of the same length."""
    y = np.asarray(y)
    k = int(round(float(offset_s) * sr))
    if k == 0:
        return y
    out = np.zeros_like(y)
    if k > 0:
        out[: max(0, len(y) - k)] = y[k:]
    else:
        out[-k:] = y[: len(y) + k]
    return out
