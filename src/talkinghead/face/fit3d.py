"""Fit the blendshape head to tracked Face Mesh points: similarity pose + ARKit weights.

Model: ``mesh_t ~= s_t R_t (B0 + D w_t) + t_t`` over the 468 Face Mesh vertices, with
``w_t`` in [0, 1]^52. Solved by alternation: a rigid/similarity fit (Umeyama) on stable
vertices, then bounded linear least squares for the weights of all frames at once with a
temporal smoothness term and a small L2 prior (projected gradient with a Lipschitz step).

Pure numpy, cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError, check_positive
from .geometry import matrix_to_rotvec, similarity_fit
from .head3d import N_FACE_MESH, BlendshapeAnimation, HeadModel, load_head_model

__all__ = ["FitResult", "fit_blendshapes"]


@dataclass
class FitResult:
    """Blendshape fit of a tracked mesh sequence.

    Attributes
    ----------
    animation : BlendshapeAnimation
        ``weights`` (T, 52) in [0, 1]; ``rotation`` (T, 3) head rotation vectors (model
        axes; the model faces the camera at 0); ``translation`` (T, 3) head translation
        in model units (metres-like) relative to the mean position (z is 0: the tracked
        depth carries no absolute distance).
    residual : ndarray, shape (T,)
        RMS vertex error of each frame in units of the inter-ocular (outer eye corner)
        distance; NaN for invalid frames.
    scale : ndarray, shape (T,)
        Similarity scale (mesh units per model unit).
    """

    animation: BlendshapeAnimation
    residual: np.ndarray
    scale: np.ndarray


def fit_blendshapes(
    mesh: np.ndarray,
    *,
    fps: float,
    smooth: float = 0.05,
    l2: float = 0.002,
    valid: np.ndarray | None = None,
    image_axes: bool = True,
    model: HeadModel | None = None,
    n_iter: int = 3,
    n_steps: int = 200,
    adapt_neutral: bool = True,
) -> FitResult:
    """Fit pose + blendshape weights to tracked Face Mesh points.

    Minimises, over all frames at once,
    ``sum_t c_t |R_t^T (mesh_t - t_t) / s_t - (B0 + D w_t)|^2
    + smooth * sum_t |w_t - w_{t-1}|^2 + l2 * sum_t |w_t|^2`` with ``0 <= w <= 1``,
    alternating a similarity fit (Umeyama) and projected accelerated gradient steps
    on the weights (``smooth`` and ``l2`` are relative to each shape's energy ``|D_k|^2``).

    Parameters
    ----------
    mesh : ndarray, shape (T, 468 or 478, 3)
        Tracked points (pixels). With ``image_axes`` (mediapipe/FaceTrack convention)
        y points down and z away from the camera; otherwise glTF axes.
    fps : float
    smooth : float
        Temporal smoothness weight (per frame-to-frame step, relative).
    l2 : float
        Ridge prior weight (relative).
    valid : ndarray of bool, shape (T,), optional
        Frames to fit; the others (and frames with NaNs) are filled by the smoothness
        term and get the nearest valid pose.
    image_axes : bool
    model : HeadModel, optional
        Defaults to the shipped head.
    n_iter : int
        Rigid / weights alternations.
    n_steps : int
        Gradient steps per alternation.
    adapt_neutral : bool
        With 10 or more valid frames, re-estimate the subject's rest shape after a first
        pass (so identity differences are not explained as expressions) and refit;
        weights are then relative to the subject's own rest face.

    Returns
    -------
    FitResult
    """
    check_positive("fps", fps)
    model = model if model is not None else load_head_model()
    m = np.asarray(mesh, np.float64)
    if m.ndim != 3 or m.shape[1] not in (468, 478) or m.shape[2] != 3:
        raise InvalidArgumentError(f"mesh.shape={m.shape} must be (T, 468 or 478, 3)")
    if m.shape[0] == 0:
        raise InvalidArgumentError("mesh must have at least one frame (T >= 1)")
    m = m[:, :N_FACE_MESH]
    if image_axes:
        m = m * np.array([1.0, -1.0, -1.0])
    n = m.shape[0]
    ok = np.isfinite(m).all(axis=(1, 2))
    if valid is not None:
        valid = np.asarray(valid, bool)
        if valid.shape != (n,):
            raise InvalidArgumentError(f"valid.shape={valid.shape} must be ({n},)")
        ok &= valid
    if not ok.any():
        raise InvalidArgumentError("mesh has no valid frame to fit")
    idx_ok = np.nonzero(ok)[0]
    mo = m[idx_ok]

    b0 = model.neutral[:N_FACE_MESH].astype(np.float64)
    k = model.n_shapes
    d = model.deltas[:, :N_FACE_MESH].astype(np.float64).reshape(k, -1)  # (K, 3N)
    ata = d @ d.T
    # per-shape regularisation, relative to each shape's own energy |D_k|^2
    energy = np.diag(ata).copy()
    energy = np.where(energy > 0, energy, float(energy.max()))
    lam_s, lam_2 = smooth * energy, l2 * energy
    lip = float(np.linalg.eigvalsh(ata)[-1]) + 4 * float(lam_s.max()) + float(lam_2.max())
    # stable vertices for the first rigid fit: those that no blendshape moves much
    motion = np.linalg.norm(model.deltas[:, :N_FACE_MESH], axis=-1).max(0)
    stable_w = np.exp(-((motion / 0.002) ** 2)) + 1e-3

    w = np.zeros((n, k))
    c = ok.astype(np.float64)[:, None]
    rows = np.zeros((n, 3, 3))
    scales = np.ones(n)
    trans = np.zeros((n, 3))
    passes = 2 if adapt_neutral and len(idx_ok) >= 10 else 1
    for p in range(passes):
        if p == 1:
            # the subject's rest shape: the tracked mean minus what the weights explain,
            # plus each shape's low (10th percentile) activation in this clip
            y = np.einsum("nji,nvj->nvi", rows[idx_ok], mo - trans[idx_ok][:, None])
            y /= scales[idx_ok][:, None, None]
            base = np.quantile(w[idx_ok], 0.1, axis=0)
            explained = (w[idx_ok] @ d).reshape(-1, N_FACE_MESH, 3)
            b0 = (y - explained).mean(0) + (base @ d).reshape(N_FACE_MESH, 3)
            w = np.clip(w - base, 0.0, 1.0)
        for _ in range(n_iter):
            shapes = b0[None] + (w[idx_ok] @ d).reshape(-1, N_FACE_MESH, 3)
            s, r, t = similarity_fit(shapes, mo, stable_w)
            # data in model space
            y = np.einsum("nji,nvj->nvi", r, mo - t[:, None]) / s[:, None, None]
            rhs = np.zeros((n, k))
            rhs[idx_ok] = (y - b0[None]).reshape(len(idx_ok), -1) @ d.T
            # FISTA on all frames
            z, w_prev, tk = w.copy(), w.copy(), 1.0
            for _ in range(n_steps):
                g = c * (z @ ata - rhs) + lam_2 * z
                if n > 1:
                    lap = np.zeros_like(z)
                    lap[1:] += z[1:] - z[:-1]
                    lap[:-1] += z[:-1] - z[1:]
                    g += lam_s * lap
                w_new = np.clip(z - g / lip, 0.0, 1.0)
                tk1 = 0.5 * (1 + np.sqrt(1 + 4 * tk * tk))
                z = w_new + ((tk - 1) / tk1) * (w_new - w_prev)
                w_prev, tk = w_new, tk1
            w = w_prev
            rows[idx_ok], scales[idx_ok], trans[idx_ok] = r, s, t
    # residuals
    shapes = b0[None] + (w[idx_ok] @ d).reshape(-1, N_FACE_MESH, 3)
    y = (
        np.einsum("nji,nvj->nvi", rows[idx_ok], mo - trans[idx_ok][:, None])
        / scales[idx_ok][:, None, None]
    )
    iod = float(np.linalg.norm(b0[33] - b0[263]))
    residual = np.full(n, np.nan)
    residual[idx_ok] = np.sqrt(((y - shapes) ** 2).sum(-1).mean(-1)) / iod
    # fill invalid frames' pose from the nearest valid frame
    near = idx_ok[np.abs(np.arange(n)[:, None] - idx_ok[None]).argmin(1)]
    rows, scales, trans = rows[near], scales[near], trans[near]
    rot = matrix_to_rotvec(rows)
    tm = trans / scales[:, None]
    tm = tm - tm[ok].mean(0)
    tm[:, 2] = 0.0
    anim = BlendshapeAnimation(
        fps=fps, names=model.names, weights=w.astype(np.float32), rotation=rot, translation=tm
    )
    return FitResult(animation=anim, residual=residual, scale=scales)
