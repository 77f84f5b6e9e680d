"""A procedural mouth interior for the photo path: teeth rows, tongue and a dark cavity.

**Procedural, not learned**: nothing here is generated from data; it is drawn from the
target mouth landmarks and coloured from the photo itself (see :class:`MouthPalette`).

Inside the inner-lip polygon (points 60-67 of the warped face), per pixel column ``x``
between the mouth corners:

- the **cavity**: the lip colour of the photo darkened to ~18 % at the back, ~45 % at
  the lips, with a soft shadow under the upper lip;
- the **upper teeth**: a row hanging from the upper inner lip, as tall as the opening
  allows (at most 0.09 inter-ocular distances), tapering toward the corners, split into
  central and lateral incisors, canines and premolars by dark gaps, shaded darker
  toward the corners (they recede) and toward the gum, a greyer incisal edge;
- the **lower teeth**: a shorter, shadowed row on the lower lip once the mouth is open
  wider than 0.16 inter-ocular distances;
- the **tongue**: an ellipse on the floor of the mouth in a lighter lip colour.

Teeth are white scaled to the photo's exposure and tinted by its colour cast. The result
is blended in with a feathered inner-lip mask whose strength grows with the opening (the
photo's own mouth shows when it is not opened further than in the photo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MouthPalette", "paint_mouth", "paint_band", "lip_colour"]

#: Tooth widths from the midline (central incisor, lateral, canine, premolar), in
#: inter-ocular distances as seen from the front (8.5, 6.5, 7.5, 7 mm on a 63 mm face,
#: foreshortened toward the sides).
_TOOTH_W = (0.125, 0.085, 0.07, 0.06)


@dataclass
class MouthPalette:
    """Colours of one photo for the mouth interior (RGB float 0-255).

    Attributes
    ----------
    lip : ndarray, shape (3,)
        Median colour between the outer and inner lip contours of the photo.
    teeth : ndarray, shape (3,)
        White at the photo's exposure and colour cast.
    grey : bool
    """

    lip: np.ndarray
    teeth: np.ndarray
    grey: bool = False

    @classmethod
    def from_photo(cls, image: np.ndarray, lm: np.ndarray, *, grey: bool = False):
        """Sample ``image`` (H, W, 3 uint8) at its 68 landmarks ``lm`` (68, 2) pixels."""
        lip = lip_colour(image, lm)
        # cheeks: below the eyes, beside the nose
        iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
        skin = []
        for c in (0.5 * (lm[31] + lm[2]), 0.5 * (lm[35] + lm[14])):
            x, y = np.round(c).astype(int)
            r = max(1, int(0.08 * iod))
            patch = image[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1]
            if patch.size:
                skin.append(np.median(patch.reshape(-1, 3).astype(np.float64), 0))
        skin = np.mean(skin, 0) if skin else np.array([190.0, 150.0, 130.0])
        # exposure: typical skin luminance ~150; colour cast: the skin's deviation from a
        # typical skin tone, a fifth of it
        lum = float(skin @ [0.299, 0.587, 0.114])
        k = float(np.clip(lum / 150.0, 0.65, 1.15))
        cast = skin / np.array([190.0, 150.0, 130.0])
        cast = cast / cast.mean()
        teeth = np.array([236.0, 230.0, 216.0]) * k * (0.8 + 0.2 * cast)
        return cls(lip=np.clip(lip, 0, 255), teeth=np.clip(teeth, 0, 255), grey=grey)


def lip_colour(image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Median RGB (3,) float64 of ``image`` (H, W, 3) between the outer and the inner lip
    contours of the 68 points ``lm`` (68, 2; only 48-67 are read); a typical lip colour when
    fewer than 4 pixels lie there."""
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[48:60]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(lm[60:68]).astype(np.int32)], 0)
    px = image[mask > 0].astype(np.float64)
    return np.median(px, 0) if len(px) >= 4 else np.array([150.0, 80.0, 80.0])


def _smooth(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _curve(pts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of the polyline ``pts`` (sorted by x) at ``xs`` (clamped at the ends)."""
    o = np.argsort(pts[:, 0])
    return np.interp(xs, pts[o, 0], pts[o, 1])


def _box(out, inner, iod):
    pad = int(np.ceil(0.05 * iod)) + 2
    x0, y0 = np.floor(inner.min(0)).astype(int) - pad
    x1, y1 = np.ceil(inner.max(0)).astype(int) + pad
    h, w = out.shape[:2]
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def _alpha(out_shape, inner, o, iod, strength):
    import cv2

    bh, bw = out_shape
    mouth = np.zeros((bh, bw), np.float32)
    poly = np.round((inner - o) * 16).astype(np.int32)
    cv2.fillPoly(mouth, [poly], 1.0, lineType=cv2.LINE_AA, shift=4)
    alpha = cv2.GaussianBlur(mouth, (0, 0), max(0.7, 0.012 * iod)) * mouth * strength
    return alpha[..., None]


def _blend(out, box, colour, alpha, grey):
    x0, y0, x1, y1 = box
    if grey:
        colour = np.repeat((colour @ np.array([0.299, 0.587, 0.114], np.float32))[..., None], 3, 2)
    region = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(region * (1 - alpha) + colour * alpha + 0.5, 0, 255).astype(
        np.uint8
    )


def _prepare(out, lm, iod, photo_gap):
    """(gap, strength, inner lips (8, 2), box) of an opened mouth, or None (nothing to do)."""
    gap = float(np.linalg.norm(lm[62] - lm[66]))
    strength = float(np.clip((gap - photo_gap - 0.01 * iod) / (0.05 * iod), 0, 1))
    if strength <= 0:
        return None
    inner = np.asarray(lm[60:68], np.float64)
    box = _box(out, inner, iod)
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    return gap, strength, inner, box


def paint_mouth(
    out: np.ndarray, lm: np.ndarray, *, iod: float, photo_gap: float, palette: MouthPalette
) -> None:
    """Paint the procedural interior (module docstring) into ``out`` in place.

    Parameters
    ----------
    out : ndarray, shape (H, W, 3), uint8
    lm : ndarray, shape (68, 2)
        The warped face's landmarks, pixels of ``out``.
    iod : float
        Inter-ocular distance in pixels of ``out``.
    photo_gap : float
        The photo's own inner-lip gap (62-66) in the same pixels.
    palette : MouthPalette
    """
    prep = _prepare(out, lm, iod, photo_gap)
    if prep is None:
        return
    gap, strength, inner, (x0, y0, x1, y1) = prep
    o = np.array([x0, y0], np.float64)
    bh, bw = y1 - y0, x1 - x0
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    xx += x0
    yy += y0
    left, right = lm[60], lm[64]
    cx = 0.5 * (left[0] + right[0])
    half = max(1.0, 0.5 * abs(right[0] - left[0]))
    xs = xx[0]
    yu = _curve(lm[[60, 61, 62, 63, 64]], xs)[None, :]  # upper inner lip
    yl = _curve(lm[[60, 67, 66, 65, 64]], xs)[None, :]  # lower inner lip
    open_ = np.maximum(yl - yu, 0.0)
    u = np.clip(np.abs(xs - cx) / half, 0, 1)[None, :]  # 0 centre .. 1 corner
    lip = palette.lip.astype(np.float32)
    aa = 0.7  # anti-aliasing width, px
    # cavity: darker toward the back (the middle of the opening), lip-coloured at the lips
    depth = np.clip(np.minimum(yy - yu, yl - yy) / np.maximum(0.5 * open_, 1.0), 0, 1)
    depth = np.maximum(depth, 0.0) * (1 - 0.5 * u**2)
    col = lip * (0.45 - 0.27 * depth)[..., None]
    # tongue: on the floor, once open wider than 0.12 iod
    t_on = _smooth((gap - 0.12 * iod) / (0.06 * iod))
    if t_on > 0:
        ty = yl - 0.18 * open_
        tr_x, tr_y = 0.62 * half, max(1.0, 0.38 * gap)
        d = ((xx - cx) / tr_x) ** 2 + ((yy - ty) / tr_y) ** 2
        tm = _smooth((1 - d) / 0.25) * t_on
        tcol = lip * (0.62 + 0.18 * _smooth(1 - d))[..., None]
        col = col * (1 - tm[..., None]) + tcol * tm[..., None]
    # tooth gaps: boundaries from the midline
    bounds = np.cumsum(_TOOTH_W) * iod
    dist = np.min(np.abs(np.abs(xx - cx)[..., None] - np.concatenate([[0.0], bounds])), -1)
    gapw = max(0.5, 0.008 * iod)
    gaps = 1.0 - 0.22 * np.exp(-0.5 * (dist / gapw) ** 2)
    recede = 1.0 - 0.6 * u**1.5  # teeth toward the corners are further back, in shadow
    taper = np.sqrt(np.clip(1 - (u / 0.85) ** 2.5, 0, 1))
    teeth = palette.teeth.astype(np.float32)
    # upper row
    th = min(0.6 * gap, 0.09 * iod) * taper
    tu = _smooth((yy - yu + aa) / (2 * aa)) * _smooth((yu + th - yy + aa) / (2 * aa))
    tu = tu * (th > 0.5)
    rel = np.clip((yy - yu) / np.maximum(th, 1.0), 0, 1)
    shade_u = (0.8 + 0.2 * _smooth(rel / 0.35)) * (1 - 0.12 * _smooth((rel - 0.8) / 0.2))
    ucol = teeth * (shade_u * recede * gaps)[..., None]
    col = col * (1 - tu[..., None]) + ucol * tu[..., None]
    # lower row, in the shadow of the upper lip and the tongue
    l_on = _smooth((gap - 0.16 * iod) / (0.05 * iod))
    if l_on > 0:
        tl = min(0.2 * gap, 0.04 * iod) * np.sqrt(np.clip(1 - (u / 0.6) ** 2, 0, 1))
        tlm = _smooth((yl - yy + aa) / (2 * aa)) * _smooth((yy - (yl - tl) + aa) / (2 * aa))
        tlm = tlm * (tl > 0.5) * l_on
        lcol = teeth * (0.55 * recede * gaps)[..., None]
        col = col * (1 - tlm[..., None]) + lcol * tlm[..., None]
    alpha = _alpha((bh, bw), inner, o, iod, strength)
    _blend(out, (x0, y0, x1, y1), col, alpha, palette.grey)


def paint_band(
    out: np.ndarray, lm: np.ndarray, *, iod: float, photo_gap: float, grey: bool = False
) -> None:
    """The earlier interior (for comparisons, ``PhotoAnimator(mouth="band")``): a fixed dark
    red-brown radial cavity and one band of upper teeth of a fixed colour."""
    import cv2

    prep = _prepare(out, lm, iod, photo_gap)
    if prep is None:
        return
    gap, strength, inner, (x0, y0, x1, y1) = prep
    o = np.array([x0, y0], dtype=np.float64)
    bh, bw = y1 - y0, x1 - x0
    mouth = np.zeros((bh, bw), np.float32)
    cv2.fillPoly(mouth, [np.round((inner - o) * 16).astype(np.int32)], 1.0,
                 lineType=cv2.LINE_AA, shift=4)  # fmt: skip
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    cx, cy = inner.mean(0) - o
    rx = max(1.0, 0.5 * float(np.ptp(inner[:, 0])))
    ry = max(1.0, 0.5 * gap)
    rr = np.clip(np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2), 0, 1)[..., None]
    edge = np.array([92, 38, 40], np.float32)
    centre = np.array([28, 8, 10], np.float32)
    colour = centre + (edge - centre) * rr**1.5
    upper = lm[[61, 62, 63]]
    mid = upper.mean(0)
    upper_n = mid + (upper - mid) * np.array([1.6, 1.0])
    th = min(0.3 * gap, 0.1 * iod)
    teeth = np.zeros((bh, bw), np.float32)
    band = np.concatenate([upper_n - [0.0, 0.05 * iod], (upper_n + [0.0, th])[::-1]])
    cv2.fillPoly(teeth, [np.round((band - o) * 16).astype(np.int32)], 1.0,
                 lineType=cv2.LINE_AA, shift=4)  # fmt: skip
    teeth = cv2.GaussianBlur(teeth, (0, 0), max(0.6, 0.006 * iod)) * mouth
    tooth = np.array([205, 196, 182], np.float32)
    shade = 1.0 - 0.45 * np.clip(np.abs(xx - cx) / rx, 0, 1) ** 2
    shade = shade * (1.0 - 0.25 * np.clip((yy - (mid[1] - y0)) / max(th, 1.0), 0, 1))
    gaps = 1.0 - 0.07 * (np.cos(np.pi * (xx - cx) / max(2.0, 0.11 * iod)) ** 40)
    tcol = tooth * (shade * gaps)[..., None]
    colour = colour * (1 - teeth[..., None]) + tcol * teeth[..., None]
    alpha = _alpha((bh, bw), inner, o, iod, strength)
    _blend(out, (x0, y0, x1, y1), colour, alpha, grey)
