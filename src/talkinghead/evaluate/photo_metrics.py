"""Image scores of generated talking-face frames against the real ones (photo animation,
personalisation): face-box PSNR and SSIM, the re-tracked mouth's sync, and a teeth check
on the inner-mouth brightness profile (:func:`inner_mouth_profile`, :func:`teeth_visible`).

Used by ``bench/photo_eval.py``, ``bench/photo_people.py`` and ``bench/person_eval.py``.
The teeth quantity itself is defined in :mod:`talkinghead.face.teeth` (also the
learned mouth's teeth control) and re-exported here.
"""

from __future__ import annotations

import numpy as np

from ..face.teeth import grey, inner_mouth_profile, profile_teeth_score, teeth_score

__all__ = [
    "ssim",
    "psnr",
    "grey",
    "score_frames",
    "inner_mouth_profile",
    "teeth_score",
    "teeth_visible",
    "TEETH_MIN_OPEN",
    "TEETH_MIN_SCORE",
]

#: The teeth check looks at frames whose inner lips are open by at least this many eye
#: distances (:func:`inner_mouth_profile`'s ``opening``).
TEETH_MIN_OPEN = 0.12
#: :func:`teeth_score` at or above this counts as teeth visible (calibrated on real frames
#: of the training side: see docs/photo.md).
TEETH_MIN_SCORE = 0.20


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two grey images (Wang et al. 2004, Gaussian window sigma 1.5)."""
    from scipy.ndimage import gaussian_filter

    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    g = lambda x: gaussian_filter(x, 1.5, truncate=3.5)  # noqa: E731
    ma, mb = g(a), g(b)
    va, vb, cov = g(a * a) - ma**2, g(b * b) - mb**2, g(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(s[4:-4, 4:-4].mean())


def psnr(a, b) -> float:
    """PSNR in dB of two 8-bit images (or crops) of the same shape."""
    d = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(d, 1e-10)))


def score_frames(gen, frames, lm, test, real_open, *, fps: float, use=None, tracks=None) -> tuple:
    """Score generated frames against the real held-out ones.

    ``gen[i]`` stands for real frame ``test[i]``. Face PSNR / SSIM over the real landmarks'
    box (frames where ``use[t]`` is False are skipped), then the generated frames are
    re-tracked: mouth r and lip-sync offset against ``real_open[test]``.

    Returns
    -------
    (psnr dB, ssim, mouth r, offset ms, share of generated frames tracked)
        ``tracks``, when a list, receives the re-tracked FaceTrack.
    """
    from ..face.landmarks68 import mouth_openness_68
    from ..face.tracking import track_frames
    from .metrics import mouth_corr, sync_offset

    ps, ss = [], []
    for i, t in enumerate(test):
        if use is not None and not use[t]:
            continue
        (x0, y0), (x1, y1) = lm[t].min(0).astype(int), lm[t].max(0).astype(int) + 1
        ps.append(psnr(gen[i][y0:y1, x0:x1], frames[t][y0:y1, x0:x1]))
        ss.append(ssim(grey(gen[i][y0:y1, x0:x1]), grey(frames[t][y0:y1, x0:x1])))
    tr = track_frames(gen, fps=fps)
    if tracks is not None:
        tracks.append(tr)
    op = mouth_openness_68(tr.landmarks68)
    v = tr.valid & np.isfinite(real_open[test])
    r = mouth_corr(op, real_open[test], valid=v)
    off, _ = sync_offset(op, real_open[test], fps=fps, valid=v)
    return np.mean(ps), np.mean(ss), r, off, tr.valid.mean()


def teeth_visible(img: np.ndarray, lm68: np.ndarray, *, threshold: float = TEETH_MIN_SCORE):
    """True / False whether :func:`teeth_score` reaches ``threshold``; None when the mouth
    is open less than :data:`TEETH_MIN_OPEN` eye distances (or the score is NaN)."""
    p = inner_mouth_profile(img, lm68)  # once: the opening and the score share it
    if p["opening"] < TEETH_MIN_OPEN:
        return None
    s = profile_teeth_score(p)
    return None if not np.isfinite(s) else bool(s >= threshold)
