"""The teeth quantity of a mouth opening (issue 18): how much a bright band under the upper
lip stands out of the inner-mouth brightness profile.

One definition, used by the teeth check of the benches
(:func:`talkinghead.evaluate.photo_metrics.teeth_visible`) and by the learned mouth's
teeth control (:func:`teeth_value`: the value measured on a real training crop,
:class:`talkinghead.models.mouth_generator.MouthGeneratorConfig` ``teeth``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["grey", "inner_mouth_profile", "teeth_score", "profile_teeth_score", "teeth_value"]


def grey(x):
    """(H, W, 3) RGB -> (H, W) float64 grey (ITU-R 601 weights)."""
    return x.astype(np.float64) @ [0.299, 0.587, 0.114]


def inner_mouth_profile(img: np.ndarray, lm68: np.ndarray) -> dict:
    """The brightness profile of the mouth opening of one frame (uint8 RGB, 68 points).

    Rows between the upper inner lip (mean y of points 61-63) and the lower one (65-67),
    each the mean grey of its pixels that lie inside the inner-lip polygon and in the
    central half of the mouth's width (the corners are shadow); rows with fewer than 2
    such pixels are NaN.

    Returns
    -------
    dict with ``rows`` (R,) grey per row (top to bottom), ``lips`` the lips' mean grey
    (outer minus inner polygon), ``opening`` the inner-lip gap in eye distances.
    """
    import cv2

    lm = np.asarray(lm68, np.float64)
    g = grey(img)
    h, w = g.shape
    iod = max(float(np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0))), 1e-6)
    top, bot = lm[[61, 62, 63], 1].mean(), lm[[65, 66, 67], 1].mean()
    inner = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inner, [np.round(lm[60:68] * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
    outer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(outer, [np.round(lm[48:60] * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
    lips = (outer > 0) & (inner == 0)
    cx, half = (lm[60, 0] + lm[64, 0]) / 2, abs(lm[64, 0] - lm[60, 0]) / 4
    x0, x1 = max(0, int(np.floor(cx - half))), min(w, int(np.ceil(cx + half)) + 1)
    y0, y1 = max(0, int(np.floor(top))), min(h, int(np.ceil(bot)) + 1)
    rows = []
    for y in range(y0, y1):
        sel = inner[y, x0:x1] > 0
        rows.append(float(g[y, x0:x1][sel].mean()) if sel.sum() >= 2 else np.nan)
    return {
        "rows": np.asarray(rows, np.float64),
        "lips": float(g[lips].mean()) if lips.sum() >= 3 else np.nan,
        "opening": float(bot - top) / iod,
    }


def teeth_score(img: np.ndarray, lm68: np.ndarray) -> float:
    """How much a bright band under the upper lip stands out of the mouth opening.

    From :func:`inner_mouth_profile`: (brightest row of the upper third of the opening -
    darkest row of the opening) / the lips' grey. Teeth under the upper lip with a dark
    cavity below score high; a uniform fill (a flat band, an averaged grey) scores near 0,
    however bright it is. NaN when the opening has fewer than 3 usable rows.
    """
    return profile_teeth_score(inner_mouth_profile(img, lm68))


def profile_teeth_score(p: dict) -> float:
    """:func:`teeth_score` of an :func:`inner_mouth_profile` result."""
    rows = p["rows"]
    ok = np.flatnonzero(np.isfinite(rows))
    if len(ok) < 3 or not np.isfinite(p["lips"]):
        return float("nan")
    upper = rows[: max(1, int(np.ceil(len(rows) / 3)))]
    if not np.isfinite(upper).any():
        return float("nan")
    return float((np.nanmax(upper) - np.nanmin(rows)) / max(p["lips"], 1e-6))


def teeth_value(img: np.ndarray, lm68: np.ndarray) -> float:
    """The teeth control ``k`` of a real frame (or crop): :func:`teeth_score` clipped to
    [0, 1], 0 where it is NaN (a closed mouth: fewer than 3 rows in the opening)."""
    s = teeth_score(img, lm68)
    return float(np.clip(s, 0.0, 1.0)) if np.isfinite(s) else 0.0
