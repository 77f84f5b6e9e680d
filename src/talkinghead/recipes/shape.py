"""Shape helpers shared by the recipes: gap filling, similarity alignment, shape PCA."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..models.sequence import TargetTransform

#: Stable 68-point indices (nose bridge and both eyes) used to align a face without
#: absorbing jaw and lip motion into the similarity transform.
STABLE_68 = tuple(range(27, 31)) + tuple(range(36, 48))
#: Lower face of the 68-point scheme: jaw, nose base and lips (Fan et al. 2015's region).
LOWER_FACE_68 = tuple(range(0, 17)) + tuple(range(31, 36)) + tuple(range(48, 68))


def fill_invalid(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Replace rows where ``valid`` is False by linear interpolation along time.

    Parameters
    ----------
    a : np.ndarray, shape (T, ...)
    valid : np.ndarray, bool, shape (T,)

    Returns
    -------
    np.ndarray, float64, shape (T, ...); zeros everywhere if no row is valid.
    """
    a = np.asarray(a, dtype=np.float64)
    valid = np.asarray(valid, bool) & np.all(np.isfinite(a.reshape(len(a), -1)), axis=1)
    if valid.all():
        return a.copy()
    if not valid.any():
        return np.zeros_like(a)
    t = np.arange(len(a))
    flat = a.reshape(len(a), -1)
    out = np.empty_like(flat)
    for j in range(flat.shape[1]):
        out[:, j] = np.interp(t, t[valid], flat[valid, j])
    return out.reshape(a.shape)


def align_similarity(pts: np.ndarray, ref: np.ndarray, idx=None) -> np.ndarray:
    """Similarity-align each frame of ``pts`` onto ``ref`` (least squares on ``idx``).

    Parameters
    ----------
    pts : np.ndarray, shape (T, N, 2)
    ref : np.ndarray, shape (N, 2)
    idx : sequence of int, optional
        Points that define the transform (default: all).

    Returns
    -------
    np.ndarray, float64, shape (T, N, 2): every point moved by its frame's transform.
    """
    from ..face.geometry import similarity_fit

    pts = np.asarray(pts, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    sel = slice(None) if idx is None else list(idx)
    s, R, t = similarity_fit(pts[:, sel], ref[sel])  # (T,), (T, 2, 2), (T, 2)
    return s[:, None, None] * np.einsum("tij,tnj->tni", R, pts) + t[:, None, :]


def mean_shape(frames: np.ndarray, idx=None, n_iter: int = 3) -> np.ndarray:
    """Generalised Procrustes mean of ``frames (T, N, 2)`` (unit RMS size, centred)."""
    frames = np.asarray(frames, dtype=np.float64)
    ref = frames[0] - frames[0].mean(axis=0)
    for _ in range(n_iter):
        ref = ref / np.sqrt(np.mean(np.sum(ref**2, axis=1)))
        ref = align_similarity(frames, ref, idx).mean(axis=0)
        ref = ref - ref.mean(axis=0)
    return ref / np.sqrt(np.mean(np.sum(ref**2, axis=1)))


def fit_pca_transform(
    rows: np.ndarray, *, variance: float = 0.98, max_components: int | None = None
) -> TargetTransform:
    """PCA of ``rows (M, P)`` keeping ``variance`` of the total, as a TargetTransform.

    Codes are the PCA coefficients divided by one global scale (the RMS of the kept
    coefficients), so the loss keeps the PCA's relative weighting of the components.
    """
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or len(rows) < 2:
        raise InvalidArgumentError(f"rows with shape {rows.shape} must be (M >= 2, P)")
    if not 0 < variance <= 1:
        raise InvalidArgumentError(f"variance={variance!r} must be in (0, 1]")
    mu = rows.mean(axis=0)
    _, s, vt = np.linalg.svd(rows - mu, full_matrices=False)
    var = s**2
    frac = np.cumsum(var) / max(var.sum(), 1e-300)
    k = int(np.searchsorted(frac, variance - 1e-12) + 1)
    k = min(k, len(s), max_components or len(s))
    scale = float(np.sqrt(var[:k].sum() / (len(rows) * k))) or 1.0
    return TargetTransform(mean=np.zeros(k), scale=np.full(k, scale), basis=vt[:k], basis_mean=mu)
