"""Rotations and the similarity fit: one set for the whole package (tracked heads, the 3D
head, the AAM, the recipes' shape alignment, exports).

Rotation vectors are axis * angle in radians. :func:`rotation_to_euler` /
:func:`euler_to_rotation` convert to and from ``yaw, pitch, roll`` with
``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)``, in whatever frame the rotation vectors are given:
the tracker's camera frame (x right, y down, z into the screen) or the 3D head's model
frame (:mod:`talkinghead.face.head3d`: y up, z toward the viewer, x the subject's left).

:func:`similarity_fit` is the one least-squares similarity (Umeyama 1991) of the package, in
2-D or 3-D, weighted, batched.

Pure numpy, cheap to import.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "rotation_matrix",
    "matrix_to_rotvec",
    "euler_to_rotation",
    "rotation_to_euler",
    "similarity_fit",
]


def rotation_matrix(rotvec) -> np.ndarray:
    """Rodrigues: rotation vectors to matrices.

    Parameters
    ----------
    rotvec : array_like, shape (..., 3)
        Axis * angle in radians.

    Returns
    -------
    ndarray, shape (..., 3, 3), float64
    """
    r = np.asarray(rotvec, dtype=np.float64)
    if r.shape[-1:] != (3,):
        raise InvalidArgumentError(f"rotvec.shape={r.shape} must be (..., 3) rotation vectors")
    theta = np.linalg.norm(r, axis=-1)[..., None, None]
    k = np.zeros(r.shape[:-1] + (3, 3))
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    k[..., 0, 1], k[..., 0, 2] = -z, y
    k[..., 1, 0], k[..., 1, 2] = z, -x
    k[..., 2, 0], k[..., 2, 1] = -y, x
    small = theta < 1e-8
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1.0, np.sin(safe) / safe)
    b = np.where(small, 0.5, (1.0 - np.cos(safe)) / safe**2)
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + a * k + b * (k @ k)


def matrix_to_rotvec(rot) -> np.ndarray:
    """Inverse of :func:`rotation_matrix`: (..., 3, 3) -> (..., 3) radians."""
    m = np.asarray(rot, dtype=np.float64)
    tr = np.trace(m, axis1=-2, axis2=-1)
    cos = np.clip((tr - 1.0) / 2.0, -1.0, 1.0)
    theta = np.arccos(cos)
    v = np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        axis=-1,
    )
    s = np.sin(theta)
    small = s < 1e-6
    scale = np.where(small, 0.5, theta / (2.0 * np.where(small, 1.0, s)))
    out = v * scale[..., None]
    # near pi: use the diagonal
    near_pi = small & (cos < 0)
    if np.any(near_pi):
        mm = m[near_pi]
        axis = np.sqrt(np.clip((np.diagonal(mm, axis1=-2, axis2=-1) + 1.0) / 2.0, 0, None))
        axis[:, 1] *= np.where(mm[:, 0, 1] + mm[:, 1, 0] < 0, -1, 1)
        axis[:, 2] *= np.where(mm[:, 0, 2] + mm[:, 2, 0] < 0, -1, 1)
        out[near_pi] = axis * np.pi
    return out


def euler_to_rotation(yaw, pitch, roll) -> np.ndarray:
    """``(yaw, pitch, roll)`` radians -> rotation vectors, ``R = Ry(yaw) Rx(pitch) Rz(roll)``.

    Parameters
    ----------
    yaw, pitch, roll : array_like, broadcastable, shape (...)

    Returns
    -------
    ndarray, shape (..., 3)
    """
    yaw, pitch, roll = np.broadcast_arrays(
        np.asarray(yaw, float), np.asarray(pitch, float), np.asarray(roll, float)
    )
    z = np.zeros_like(yaw)
    ry = rotation_matrix(np.stack([z, yaw, z], -1))
    rx = rotation_matrix(np.stack([pitch, z, z], -1))
    rz = rotation_matrix(np.stack([z, z, roll], -1))
    return matrix_to_rotvec(ry @ rx @ rz)


def rotation_to_euler(rotvec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotation vectors -> ``(yaw, pitch, roll)`` in radians (see the module docstring).

    Parameters
    ----------
    rotvec : array_like, shape (..., 3)

    Returns
    -------
    yaw, pitch, roll : ndarray, shape (...)
        ``yaw`` > 0 turns toward the subject's left, ``pitch`` > 0 looks down,
        ``roll`` > 0 tilts toward the subject's right shoulder.
    """
    m = rotation_matrix(rotvec)
    # R = Ry Rx Rz: m[1,2] = -sin(pitch)
    pitch = np.arcsin(np.clip(-m[..., 1, 2], -1.0, 1.0))
    yaw = np.arctan2(m[..., 0, 2], m[..., 2, 2])
    roll = np.arctan2(m[..., 1, 0], m[..., 1, 1])
    return yaw, pitch, roll


def similarity_fit(
    src, dst, weights=None, *, with_scale: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Umeyama (1991): ``s, R, t`` minimising ``sum_i w_i |s R src_i + t - dst_i|^2``, with
    ``R`` a proper rotation (det +1), batched over the leading axes.

    Parameters
    ----------
    src, dst : array_like, shape (..., N, D), D = 2 or 3
        Corresponding points; the leading axes broadcast (e.g. ``src`` (T, N, 2) onto one
        ``dst`` (N, 2)).
    weights : array_like, shape (N,), optional
        Per-point weights (default: all equal).
    with_scale : bool
        Fit the scale (False: ``s = 1``, a rigid fit).

    Returns
    -------
    s : ndarray, shape (...)
        0 where the ``src`` points all coincide (then ``t`` is the mean of ``dst``).
    R : ndarray, shape (..., D, D)
    t : ndarray, shape (..., D)
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.ndim < 2 or src.shape[-1] not in (2, 3) or dst.shape[-2:] != src.shape[-2:]:
        raise InvalidArgumentError(
            f"src.shape={src.shape} and dst.shape={dst.shape} must both be (..., N, D) with "
            "D = 2 or 3"
        )
    n = src.shape[-2]
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    mu_s = np.einsum("n,...nd->...d", w, src)
    mu_d = np.einsum("n,...nd->...d", w, dst)
    a = src - mu_s[..., None, :]
    b = dst - mu_d[..., None, :]
    cov = np.einsum("n,...ni,...nj->...ij", w, b, a)
    u, sig, vt = np.linalg.svd(cov)
    corr = np.ones(sig.shape)
    corr[..., -1] = np.sign(np.linalg.det(u @ vt))
    rot = u @ (corr[..., :, None] * vt)
    var = np.einsum("n,...nd->...", w, a * a)
    if with_scale:
        s = np.einsum("...i,...i->...", sig, corr) / np.maximum(var, 1e-300)
    else:
        s = np.ones(var.shape)
    t = mu_d - s[..., None] * np.einsum("...ij,...j->...i", rot, mu_s)
    return s, rot, t
