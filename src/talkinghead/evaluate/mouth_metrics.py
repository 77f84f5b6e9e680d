"""Per-clip mouth metrics of the held-out protocol (``mouth_v2``), against the Face Mesh
track.

Kept apart from :mod:`talkinghead.evaluate.metrics` (the general and paper metrics); these
are what :mod:`talkinghead.evaluate.heldout` reports per clip:

==================  =========================================================================
open_r              Pearson r (zero lag) of the predicted mouth opening and the real one
                    (inner lip 13-14 over eye corners 33-263, :func:`mouth_opening_mesh`)
width_r             the same for the mouth width (corners 61-291 over 33-263,
                    :func:`mouth_width_mesh`; predicted from 68 landmarks 48-54 over 36-45,
                    :func:`mouth_width_68`): spreading and rounding
lag_ms              the lag of the best r within +-200 ms (+ = the prediction is late)
bilabial            share of /p b m/ (forced-aligned on the transcript) in which the
                    prediction closes (:func:`talkinghead.evaluate.metrics.bilabial_closure_rate`)
rest_level          the opening in silence, on the clip's own scale (:func:`rest_level`); the
                    real faces keep a small opening at rest: a model should match their level
rest_err            ``rest_level(prediction) - rest_level(real)`` (0 is right; + = too open)
jitter              acceleration energy of the standardised prediction over the real
                    mouth's (:func:`jitter_ratio_scalefree`; 1 = as smooth as the real mouth)
==================  =========================================================================

Every function is scale-free where it compares a prediction with the truth, so peers in
other units (an energy envelope, a jaw channel) compare with the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError
from ..face import landmarks68 as L68

__all__ = [
    "mouth_opening_mesh",
    "mouth_width_mesh",
    "mouth_width_68",
    "rest_level",
    "jitter_ratio_scalefree",
]


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x[~np.isfinite(x)] = np.nan
    return x


def mouth_opening_mesh(mesh) -> np.ndarray:
    """Inner-lip gap over the outer eye corners: ``|m13 - m14| / |m33 - m263|``
    (:func:`talkinghead.face.landmarks68.mouth_openness_mesh`, NaN where not finite).

    Parameters
    ----------
    mesh : array_like, shape (T, 468, D)

    Returns
    -------
    ndarray, shape (T,), float64 (NaN where not finite)
    """
    return _finite(L68.mouth_openness_mesh(mesh))


def mouth_width_mesh(mesh) -> np.ndarray:
    """Mouth-corner distance over the outer eye corners: ``|m61 - m291| / |m33 - m263|``
    (:func:`talkinghead.face.landmarks68.mouth_width_mesh`, NaN where not finite).

    Parameters
    ----------
    mesh : array_like, shape (T, 468, D)

    Returns
    -------
    ndarray, shape (T,), float64 (NaN where not finite)
    """
    return _finite(L68.mouth_width_mesh(mesh))


def mouth_width_68(landmarks) -> np.ndarray:
    """Mouth-corner distance of 68 landmarks over the outer eye corners: ``|48-54| / |36-45|``.

    Parameters
    ----------
    landmarks : array_like, shape (T, 68, D)

    Returns
    -------
    ndarray, shape (T,), float64
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim < 2 or lm.shape[-2] != 68:
        raise InvalidArgumentError(f"landmarks.shape={lm.shape} must be (..., 68, D)")
    num = np.linalg.norm(lm[..., 48, :] - lm[..., 54, :], axis=-1)
    den = np.linalg.norm(lm[..., 36, :] - lm[..., 45, :], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _finite(num / den)


def rest_level(openness, silent, *, valid=None, lo: float = 5.0, hi: float = 95.0) -> float:
    """The mouth opening in silence on the clip's own scale.

    ``(median(o[silent]) - P_lo(o)) / (P_hi(o) - P_lo(o))`` with the percentiles over all
    valid frames: 0 = as closed as the clip's most closed frames, 1 = as open as its
    widest. Scale-free, so a prediction in any unit compares with the real face.

    Parameters
    ----------
    openness : array_like, shape (T,)
    silent : array_like of bool, shape (T,)
    valid : array_like of bool, shape (T,), optional
    lo, hi : float
        Percentiles of the range (5 and 95).

    Returns
    -------
    float
        NaN with fewer than 3 valid silent frames or a flat track.
    """
    o = np.asarray(openness, dtype=np.float64).reshape(-1)
    s = np.asarray(silent, dtype=bool).reshape(-1)
    if s.shape != o.shape:
        raise InvalidArgumentError(f"silent.shape={s.shape} must equal openness.shape={o.shape}")
    m = np.isfinite(o)
    if valid is not None:
        m &= np.asarray(valid, dtype=bool).reshape(-1)
    if (m & s).sum() < 3 or m.sum() < 3:
        return math.nan
    a, b = np.percentile(o[m], [lo, hi])
    if b - a <= 1e-12 * max(abs(b), 1.0):
        return math.nan
    return float((np.median(o[m & s]) - a) / (b - a))


def jitter_ratio_scalefree(pred, true, *, valid=None) -> float:
    """Acceleration energy of the prediction over the real mouth's, each divided by its
    standard deviation over the valid frames first.

    ``sum(diff2(p / sd(p))**2) / sum(diff2(t / sd(t))**2)`` over second differences of
    three consecutive valid frames: 1 = as smooth as the real mouth, > 1 jittery, < 1
    smoother.

    Parameters
    ----------
    pred, true : array_like, shape (T,)
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    float
        NaN for a flat prediction or truth.
    """
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    t = np.asarray(true, dtype=np.float64).reshape(-1)
    if p.shape != t.shape:
        raise InvalidArgumentError(f"pred.shape={p.shape} must equal true.shape={t.shape}")
    m = np.isfinite(p) & np.isfinite(t)
    if valid is not None:
        m &= np.asarray(valid, dtype=bool).reshape(-1)
    if m.sum() < 3:
        return math.nan
    sp, st = float(np.std(p[m])), float(np.std(t[m]))
    if sp <= 1e-12 or st <= 1e-12:
        return math.nan
    k = m[:-2] & m[1:-1] & m[2:]
    ap = (p[2:] - 2 * p[1:-1] + p[:-2])[k] / sp
    at = (t[2:] - 2 * t[1:-1] + t[:-2])[k] / st
    et = float(np.sum(at * at))
    if et <= 0:
        return math.nan
    return float(np.sum(ap * ap)) / et
