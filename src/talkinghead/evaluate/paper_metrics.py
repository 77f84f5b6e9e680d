"""The papers' own objective metrics, exactly as each paper defines them (pure numpy).

Each metric comes in two forms: a per-clip ``*_parts`` function returning the sum and the
count that the paper pools over, and a pooled function over a list of clips (the papers
pool over all frames of the test set; a median of per-clip values is another number).
:func:`pool` combines the parts of several clips (e.g. those of one emotion).

====================================  =========================================================
:func:`pham_param_error`              Pham 2017, Sec. 6 ("Evaluations"), Table 1:
                                      ``eps = 1/M sum_i ||y_i - y^_i||^2`` over the M frames of
                                      the test set: squared error SUMMED over the parameter
                                      dimensions, averaged over all frames (pooled)
:func:`pham_landmark_rmse` (3D, mm)   Pham 2017, Sec. 6, Table 2: RMSE of the 3-D landmarks of
                                      the shape of Eq. (1) rebuilt from predicted vs true
                                      parameters, in millimetres
:func:`pham_landmark_rmse` (2D)       Pham 2017, Sec. 6, Table 3: RMSE of those landmarks
                                      projected onto the image plane, over the head size
:func:`sakurai_corr`                  Sakurai 2018, Sec. 4.3, Eq. (3): per-frame correlation of
                                      the code vectors, averaged over all frames of all videos
:func:`eskimez_lip_mse`               Eskimez 2018 (abstract; Sec. "Evaluation"): MSE of the
                                      lip landmarks (and of their first / second temporal
                                      differences) in the authors' normalised space (eyes of
                                      the first frame pinned, identity removed)
====================================  =========================================================

Today's variants in :mod:`talkinghead.evaluate.metrics` keep their own names:
``param_mse_per_dim`` (mean over the dimensions, per clip), ``corr_codes(mode=
"dimension")``, ``lip_diff_mse`` (per-frame inter-ocular units after alignment).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..errors import InvalidArgumentError, as_float_array
from . import metrics as M

__all__ = [
    "pool",
    "pham_param_error_parts",
    "pham_param_error",
    "quaternion_vector_to_rotvec",
    "pham_landmarks",
    "head_size",
    "pham_landmark_rmse_parts",
    "pham_landmark_rmse",
    "sakurai_corr_parts",
    "sakurai_corr",
    "eskimez_normalize",
    "eskimez_lip_mse_parts",
    "eskimez_lip_mse",
]


def pool(parts: Iterable[tuple[float, int]], *, root: bool = False) -> float:
    """Pool per-clip ``(sum, count)`` parts: ``sum(sums) / sum(counts)`` (sqrt if ``root``).

    Parameters
    ----------
    parts : iterable of (float, int)
        Parts with a count of 0 (or a non-finite sum) are skipped.
    root : bool
        Take the square root (for RMSEs pooled as mean squares).

    Returns
    -------
    float
        NaN when nothing is counted.
    """
    s, n = 0.0, 0
    for a, k in parts:
        if k and math.isfinite(a):
            s += float(a)
            n += int(k)
    if n == 0:
        return float("nan")
    v = s / n
    return math.sqrt(v) if root else v


def _pairs(preds, trues, what: str):
    if isinstance(preds, np.ndarray) and isinstance(trues, np.ndarray) and preds.ndim == 2:
        return [preds], [trues]
    preds, trues = list(preds), list(trues)
    if len(preds) != len(trues):
        raise InvalidArgumentError(
            f"{what}: preds has {len(preds)} clips and trues {len(trues)}; they must match"
        )
    return preds, trues


def _valid_list(valids, n: int):
    if valids is None:
        return [None] * n
    valids = list(valids)
    if len(valids) != n:
        raise InvalidArgumentError(f"valids has {len(valids)} clips; expected {n}")
    return valids


# --------------------------------------------------------------------------- Pham 2017


def pham_param_error_parts(pred, true, *, valid=None) -> tuple[float, int]:
    """One clip's part of Pham's parameter error: ``(sum_i ||y_i - y^_i||^2, M_clip)``.

    Parameters
    ----------
    pred, true : array_like, shape (T, D)
        Predicted and true parameters (Pham: 3 quaternion parameters + blendshape weights).
    valid : array_like of bool, shape (T,), optional
        Frames to score; frames with a non-finite value are skipped too.

    Returns
    -------
    sse : float
        Squared error summed over the dimensions and the scored frames.
    n_frames : int
    """
    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    if p.ndim == 1:
        p, t = p[:, None], t[:, None]
    M._same_shape(p, t, "pred", "true")
    m = M._frame_mask(valid, p.shape[0]) & M._finite_rows(p, t)
    return float(np.sum((p[m] - t[m]) ** 2)), int(m.sum())


def pham_param_error(preds, trues, *, valids=None) -> float:
    """Pham et al. 2017's parameter error, Sec. 6 (Evaluations) / Table 1.

    ``eps = (1 / M) sum_{i=1..M} ||y_i - y^_i||^2`` with ``M`` the number of video frames
    of the test set: the squared error is **summed** over the parameter dimensions (the
    squared Euclidean norm) and **averaged over all frames pooled** across the clips, not
    per clip. The per-emotion columns of Table 1 are the same over the frames of the videos
    of one emotion (pool the :func:`pham_param_error_parts` of those clips).

    Parameters
    ----------
    preds, trues : sequence of array_like, each (T_n, D); or one (T, D) array each
    valids : sequence of array_like of bool, optional

    Returns
    -------
    float
        NaN when no frame is scored.
    """
    preds, trues = _pairs(preds, trues, "pham_param_error")
    vs = _valid_list(valids, len(preds))
    return pool(
        pham_param_error_parts(p, t, valid=v) for p, t, v in zip(preds, trues, vs, strict=True)
    )


def quaternion_vector_to_rotvec(q) -> np.ndarray:
    """The vector part ``(x, y, z)`` of a unit quaternion with ``w >= 0`` -> rotation vector.

    Inverse of :func:`talkinghead.recipes.pham2017.rotvec_to_quaternion_vector`:
    ``angle = 2 asin(|v|)``, ``axis = v / |v|`` (``|v|`` clipped to 1 for predictions).

    Parameters
    ----------
    q : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (..., 3), float64
    """
    v = np.asarray(q, dtype=np.float64)
    if v.shape[-1:] != (3,):
        raise InvalidArgumentError(f"q.shape={v.shape} must be (..., 3) quaternion vector parts")
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2.0 * np.arcsin(np.clip(n, 0.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-12, v / np.where(n > 0, n, 1.0) * angle, 0.0)


def _head(head):
    if head is None:
        from ..face.head3d import load_head_model

        head = load_head_model()
    return head


def pham_landmarks(params, *, head=None) -> np.ndarray:
    """The 68 3-D landmarks of Pham's Eq. (1) shape ``S = R (B0 + sum_i (B_i - B0) e_i)``.

    Parameters
    ----------
    params : array_like, shape (T, 3 + K)
        Quaternion vector part (3) then the K blendshape weights ``e`` (not clipped).
    head : talkinghead.face.head3d.HeadModel, optional
        The blendshape head (default: the shipped ARKit head, in metres). Pham uses the
        tester-specific FaceWarehouse bases of the visual tracker; we use one generic head.

    Returns
    -------
    ndarray, shape (T, 68, 3), float64
        Metres, from the head's Face Mesh vertices mapped to the 68-point scheme.
    """
    from ..face.head3d import N_FACE_MESH, rotation_matrix
    from ..face.landmarks68 import mesh_to_68

    head = _head(head)
    x = as_float_array(params, "params")
    if x.ndim != 2 or x.shape[1] != 3 + head.n_shapes:
        raise InvalidArgumentError(
            f"params.shape={x.shape} must be (T, {3 + head.n_shapes}): 3 rotation + "
            f"{head.n_shapes} weights"
        )
    b0 = head.neutral[:N_FACE_MESH].astype(np.float64)
    d = head.deltas[:, :N_FACE_MESH].astype(np.float64).reshape(head.n_shapes, -1)
    shape = (x[:, 3:] @ d).reshape(len(x), N_FACE_MESH, 3) + b0
    rot = rotation_matrix(quaternion_vector_to_rotvec(x[:, :3]))  # (T, 3, 3)
    posed = np.einsum("tij,tvj->tvi", rot, shape)
    return mesh_to_68(posed).astype(np.float64)


def head_size(head=None) -> float:
    """Head size used to normalise Pham's 2-D RMSE: the width (x extent) of the head's
    rest Face Mesh, in the head's units (0.143 m for the shipped head).

    Pham (Sec. 6) divides by the "average head size, which equals 400 pixels in RAVDESS"
    without saying how it is measured; we take the face width of the model that makes the
    landmarks, so the ratio does not depend on the image scale.
    """
    from ..face.head3d import N_FACE_MESH

    n = _head(head).neutral[:N_FACE_MESH]
    return float(n[:, 0].max() - n[:, 0].min())


def pham_landmark_rmse_parts(
    pred, true, *, dims: int = 3, head=None, valid=None
) -> tuple[float, int]:
    """One clip's part of Pham's landmark RMSE: ``(sum of squared point distances, count)``.

    Parameters
    ----------
    pred, true : array_like, shape (T, 3 + K)
        Predicted and true (tracked) parameters.
    dims : {3, 2}
        3: distances of the 3-D landmarks, in **millimetres**; 2: of the landmarks
        projected onto the image plane (orthographic: drop z; the camera looks along -z),
        in units of :func:`head_size`.
    head : HeadModel, optional
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    sse : float
        Sum over the scored frames and the 68 landmarks of the squared distance.
    count : int
        Number of (frame, landmark) pairs.
    """
    if dims not in (2, 3):
        raise InvalidArgumentError(f"dims={dims!r} must be 3 (mm) or 2 (head-size units)")
    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    M._same_shape(p, t, "pred", "true")
    m = M._frame_mask(valid, p.shape[0]) & M._finite_rows(p, t)
    if not m.any():
        return 0.0, 0
    head = _head(head)
    a, b = pham_landmarks(p[m], head=head), pham_landmarks(t[m], head=head)
    if dims == 3:
        a, b = a * 1000.0, b * 1000.0  # metres -> mm
    else:
        hs = head_size(head)
        a, b = a[..., :2] / hs, b[..., :2] / hs
    return float(np.sum((a - b) ** 2)), int(a.shape[0] * a.shape[1])


def pham_landmark_rmse(preds, trues, *, dims: int = 3, head=None, valids=None) -> float:
    """Pham et al. 2017's landmark RMSE, Sec. 6 / Tables 2 (3-D, mm) and 3 (2-D, normalised).

    The predicted and the true parameters each rebuild the shape of Eq. (1) with the same
    blendshape bases (:func:`pham_landmarks`); the RMSE is
    ``sqrt(mean over all frames of the test set and all landmarks of |a - b|^2)`` (pooled
    over frames, as the "Overall" column). ``dims=3`` gives millimetres (Table 2);
    ``dims=2`` projects onto the image plane and divides by :func:`head_size` (Table 3).

    Returns
    -------
    float
        NaN when no frame is scored.
    """
    preds, trues = _pairs(preds, trues, "pham_landmark_rmse")
    vs = _valid_list(valids, len(preds))
    head = _head(head)
    return pool(
        (
            pham_landmark_rmse_parts(p, t, dims=dims, head=head, valid=v)
            for p, t, v in zip(preds, trues, vs, strict=True)
        ),
        root=True,
    )


# --------------------------------------------------------------------------- Sakurai 2018


def sakurai_corr_parts(pred, true) -> tuple[float, int]:
    """One video's part of Sakurai's CORR: ``(sum_d corr(v^_d, v_d), D_n)``.

    ``corr`` is the Pearson correlation across the code dimensions of frame ``d`` (a
    constant vector counts as 0); frames with a non-finite value are skipped.

    Parameters
    ----------
    pred, true : array_like, shape (T, D)

    Returns
    -------
    sum_r : float
    n_frames : int
    """
    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    M._same_shape(p, t, "pred", "true")
    if p.ndim != 2:
        raise InvalidArgumentError(f"pred.shape={p.shape} must be (T, D)")
    ok = M._finite_rows(p, t)
    return float(sum(M.pearson_r(a, b) for a, b in zip(p[ok], t[ok], strict=True))), int(ok.sum())


def sakurai_corr(preds, trues) -> float:
    """Sakurai et al. 2018's CORR, Sec. 4.3, Eq. (3).

    ``CORR = sum_n sum_{d=1..D_n} corr(v^_d^n, v_d^n) / sum_n D_n`` where ``D_n`` is the
    number of frames of video ``n`` and ``v_d^n`` the facial code (8 AAM shape + 8
    appearance parameters in the paper) of frame ``d``: the correlation is taken across the
    code dimensions of each frame and averaged over all frames of all videos. "Normalized
    correlation" is read as Pearson correlation. The same number as
    ``metrics.corr_codes(mode="frame")``; ``mode="dimension"`` is another reading.

    Parameters
    ----------
    preds, trues : sequence of array_like, each (T_n, D); or one (T, D) array each

    Returns
    -------
    float
        NaN when no frame is scored.
    """
    preds, trues = _pairs(preds, trues, "sakurai_corr")
    return pool(sakurai_corr_parts(p, t) for p, t in zip(preds, trues, strict=True))


# --------------------------------------------------------------------------- Eskimez 2018


def eskimez_normalize(pred, true, *, valid=None) -> tuple[np.ndarray, np.ndarray]:
    """Map a predicted and a true clip into Eskimez et al. 2018's normalised space.

    The authors' two steps (abstract; :mod:`talkinghead.face.normalize`): (1) the similarity
    transform that pins the two eye centres of the TRUE clip's first valid frame to
    ``(-0.5, 0)`` and ``(0.5, 0)`` is applied to every frame; (2) the identity is removed:
    the clip's mean pinned shape is replaced by the mean shape (here the shipped neutral
    face, :func:`~talkinghead.face.normalize.neutral_face_68`). The prediction gets the same
    transform and the same shift, so errors are in units of the first frame's eye-centre
    distance and the mean shape cancels out of every difference.

    Parameters
    ----------
    pred, true : array_like, shape (T, 68, 2)
        The same (image) coordinate frame.
    valid : array_like of bool, shape (T,), optional

    Returns
    -------
    pred_n, true_n : ndarray, shape (T, 68, 2)
        NaN on invalid frames.
    """
    from ..face.normalize import neutral_face_68, pin_eyes

    p, t = as_float_array(pred, "pred"), as_float_array(true, "true")
    if t.ndim != 3 or t.shape[1:] != (68, 2):
        raise InvalidArgumentError(f"true.shape={t.shape} must be (T, 68, 2)")
    M._same_shape(p, t, "pred", "true")
    m = M._frame_mask(valid, t.shape[0]) & M._finite_rows(t)
    t = t.copy()
    t[~m] = np.nan
    if not m.any():
        return np.full_like(p, np.nan), t
    tn, tf = pin_eyes(t)
    shift = neutral_face_68() - np.nanmean(tn, axis=0)
    pn = tf.apply(p) + shift
    pn[~m] = np.nan
    return pn, tn + shift


def eskimez_lip_mse_parts(pred, true, *, order: int = 0, valid=None) -> tuple[float, int]:
    """One clip's part of Eskimez's lip MSE: ``(sum of squared errors, count)``.

    Over the 20 lip points (48-67), both coordinates, and every frame (``order=0``) or
    every first / second temporal difference (``order=1, 2``) whose frames are all valid,
    in the space of :func:`eskimez_normalize`.
    """
    if order not in (0, 1, 2):
        raise InvalidArgumentError(f"order={order!r} must be 0, 1 or 2")
    pn, tn = eskimez_normalize(pred, true, valid=valid)
    pl, tl = pn[:, list(M.LIPS)], tn[:, list(M.LIPS)]
    if order:
        pl, tl = np.diff(pl, n=order, axis=0), np.diff(tl, n=order, axis=0)
    ok = M._finite_rows(pl, tl)
    return float(np.sum((pl[ok] - tl[ok]) ** 2)), int(ok.sum()) * pl.shape[1] * pl.shape[2]


def eskimez_lip_mse(preds, trues, *, order: int = 0, valids=None) -> float:
    """Eskimez et al. 2018's lip-landmark MSE in the authors' normalised space.

    The abstract: "the mean-squared error (MSE) loss of landmarks of lips between predicted
    and ground-truth landmarks as well as their first- and second-order temporal
    differences". Both clips go through :func:`eskimez_normalize` (first-frame eye pinning
    + identity removal); the MSE is the mean over all frames of all clips (pooled), the 20
    lip points and both coordinates of the squared difference (``order`` 0), or of the
    squared difference of the ``order``-th temporal differences (1, 2). Only the abstract
    is in ``papers/``; the averaging over coordinates (not summing) is our reading of "MSE".

    Parameters
    ----------
    preds, trues : sequence of array_like, each (T_n, 68, 2); or one (T, 68, 2) array each
    order : {0, 1, 2}
    valids : sequence of array_like of bool, optional

    Returns
    -------
    float
    """
    if isinstance(preds, np.ndarray) and preds.ndim == 3:
        preds, trues = [preds], [trues]
    preds, trues = _pairs(preds, trues, "eskimez_lip_mse")
    vs = _valid_list(valids, len(preds))
    return pool(
        eskimez_lip_mse_parts(p, t, order=order, valid=v)
        for p, t, v in zip(preds, trues, vs, strict=True)
    )
