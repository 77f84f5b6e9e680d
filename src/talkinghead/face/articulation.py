"""The mouth's degrees of freedom: measured on real faces, and turned into every output.

One place for the geometry of the learned mouth (issue 12): the same numbers drive the 68
landmarks, the 52 ARKit blendshapes and every export of a run.

Degrees of freedom (:data:`DOF_NAMES`), measured per frame on the Face Mesh 468 track by
:func:`mesh_dofs`, in units of the outer eye-corner distance ``|m33 - m263|`` of the same
frame, in the face's own frame (``u`` along the eye corners, ``v`` towards the chin):

``open``
    Inner-lip gap ``|m13 - m14| / |m33 - m263|`` over every coordinate given
    (:func:`~talkinghead.face.landmarks68.mouth_openness_mesh`: exactly the evaluation's
    mouth opening).
``width``
    Mouth-corner distance ``|m61 - m291| / |m33 - m263|``, same convention (the
    evaluation's mouth width: spreading and rounding).
``upper_up``
    Upper-lip raise: ``-(v(m0) - v(m2))``, the outer upper lip's height under the nose base
    (larger = lip raised, teeth shown).
``lower_down``
    Lower-lip drop relative to the chin: ``v(m17) - v(m152)`` (larger = lower lip pulled
    down off the teeth; with a fixed jaw the distance lower lip - chin shrinks).
``smile``
    Corner raise: the lip centre's height minus the corners' (``v`` of the mean of 13 and 14
    minus the mean ``v`` of 61 and 291; larger = corners up, smile; negative = frown).
``protrude``
    Lip protrusion / rounding: how far the lip centres (0, 17) stand out towards the camera
    from the corners (61, 291), from Face Mesh depth (``-z``, same scale as ``x``).

A learned model predicts these as per-clip z-scores (anatomy and camera differ between
speakers; the motion does not). :class:`DofStats` holds the population's per-clip mean and
spread of each, and the median z-score in silence (real faces rest with a small opening,
not closed, and certainly not open); :func:`dofs_to_articulation` turns predicted z-scores
into the articulation array (:data:`ARTICULATION_NAMES`) that
:func:`talkinghead.models.phonetic.articulation_to_landmarks` draws on the 68-point face and
:func:`talkinghead.models.blendshape_bridge.articulation_to_blendshapes` turns into ARKit
weights. Its first four columns are :data:`talkinghead.face.visemes.PARAMS`, so every older
consumer keeps working.

Pure numpy, cheap to import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InvalidArgumentError
from .landmarks68 import mouth_openness_mesh
from .visemes import PARAMS

__all__ = [
    "DOF_NAMES",
    "ARTICULATION_NAMES",
    "UPPER_UP",
    "LOWER_DOWN",
    "SMILE",
    "DofStats",
    "mesh_dofs",
    "clip_zscores",
    "dofs_to_articulation",
]

#: Degrees of freedom measured by :func:`mesh_dofs` (column order).
DOF_NAMES: tuple[str, ...] = ("open", "width", "upper_up", "lower_down", "smile", "protrude")
#: Columns of the articulation array of the learned mouth: PARAMS + three lip motions in
#: eye-corner units relative to the speaker's mean (0 = average speech posture).
ARTICULATION_NAMES: tuple[str, ...] = tuple(PARAMS) + ("upper_up", "lower_down", "smile")
UPPER_UP, LOWER_DOWN, SMILE = 4, 5, 6

_I = {n: i for i, n in enumerate(DOF_NAMES)}


def mesh_dofs(mesh: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Measure the mouth's degrees of freedom on Face Mesh points.

    Parameters
    ----------
    mesh : np.ndarray, shape (T, 468 or 478, 2 or 3)
        Tracked points (pixels, image axes: y down; z towards the camera negative, as
        mediapipe gives it). Without z, ``protrude`` is NaN.
    valid : np.ndarray of bool, shape (T,), optional
        Frames to measure (the others are NaN).

    Returns
    -------
    np.ndarray, float64, shape (T, 6)
        Columns :data:`DOF_NAMES`, in eye-corner units; NaN where the mesh is NaN or invalid.
    """
    m = np.asarray(mesh, dtype=np.float64)
    if m.ndim != 3 or m.shape[1] not in (468, 478) or m.shape[2] not in (2, 3):
        raise InvalidArgumentError(f"mesh.shape={m.shape} must be (T, 468 or 478, 2 or 3)")
    xy = m[..., :2]
    eye = xy[:, 263] - xy[:, 33]
    with np.errstate(invalid="ignore", divide="ignore"):
        iod = np.linalg.norm(eye, axis=-1)
        ex = eye / iod[:, None]
        ey = np.stack([-ex[:, 1], ex[:, 0]], axis=-1)
        # v must point from the eyes towards the chin
        sign = np.sign(np.einsum("td,td->t", xy[:, 152] - 0.5 * (xy[:, 33] + xy[:, 263]), ey))
        ey = ey * np.where(sign == 0, 1.0, sign)[:, None]

        def v(i):
            return np.einsum("td,td->t", xy[:, i], ey) / iod

        out = np.full((len(m), len(DOF_NAMES)), np.nan)
        # opening and width over all coordinates given, like the evaluation's truth
        out[:, _I["open"]] = mouth_openness_mesh(m)
        eyes = np.linalg.norm(m[:, 33] - m[:, 263], axis=-1)
        out[:, _I["width"]] = np.linalg.norm(m[:, 61] - m[:, 291], axis=-1) / eyes
        out[:, _I["upper_up"]] = -(v(0) - v(2))
        out[:, _I["lower_down"]] = v(17) - v(152)
        out[:, _I["smile"]] = 0.5 * (v(13) + v(14)) - 0.5 * (v(61) + v(291))
        if m.shape[2] == 3:
            z = m[..., 2]
            out[:, _I["protrude"]] = -(0.5 * (z[:, 0] + z[:, 17]) - 0.5 * (z[:, 61] + z[:, 291]))
            out[:, _I["protrude"]] /= iod
    if valid is not None:
        valid = np.asarray(valid, bool).reshape(-1)
        if valid.shape != (len(m),):
            raise InvalidArgumentError(f"valid.shape={valid.shape} must be ({len(m)},)")
        out[~valid] = np.nan
    return out


def clip_zscores(dofs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-clip z-scores of measured DOFs (NaN-aware).

    Returns
    -------
    z : np.ndarray, shape (T, D)
        NaN where ``dofs`` is NaN.
    mean, std : np.ndarray, shape (D,)
    """
    d = np.asarray(dofs, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(d, axis=0) if np.isfinite(d).any() else np.zeros(d.shape[1])
        std = np.nanstd(d, axis=0)
    std = np.where(np.isfinite(std) & (std > 1e-9), std, 1.0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    return (d - mean) / std, mean, std


@dataclass
class DofStats:
    """Population statistics of the measured DOFs (fitted on training clips).

    Attributes
    ----------
    mean : list of float, length 6
        Median over clips of each DOF's per-clip mean (eye-corner units).
    std : list of float, length 6
        Median over clips of each DOF's per-clip standard deviation.
    rest_z : list of float, length 6
        Median per-clip z-score of each DOF in silent frames (the face at rest).
    """

    mean: list
    std: list
    rest_z: list

    def __post_init__(self) -> None:
        for k in ("mean", "std", "rest_z"):
            a = [float(x) for x in getattr(self, k)]
            if len(a) != len(DOF_NAMES) or not np.all(np.isfinite(a)):
                raise InvalidArgumentError(
                    f"{k} has {len(a)} values; must be {len(DOF_NAMES)} finite numbers"
                )
            setattr(self, k, a)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DofStats:
        return cls(mean=d["mean"], std=d["std"], rest_z=d["rest_z"])

    @classmethod
    def fit(cls, dofs_per_clip, silent_per_clip=None) -> DofStats:
        """From measured DOFs of several clips ``[(T_i, 6)]`` and optional silence masks."""
        means, stds, rests = [], [], []
        for i, d in enumerate(dofs_per_clip):
            z, mu, sd = clip_zscores(d)
            if not np.isfinite(d).any():
                continue
            means.append(mu)
            stds.append(sd)
            if silent_per_clip is not None:
                s = np.asarray(silent_per_clip[i], bool)
                zs = z[s]
                if np.isfinite(zs).sum(axis=0).min() >= 5:
                    rests.append(np.nanmedian(zs, axis=0))
        if not means:
            raise InvalidArgumentError("dofs_per_clip must hold at least one measured clip")
        rest = np.median(rests, axis=0) if rests else np.array([-1.0, -0.5, 0, 0, 0, 0])
        return cls(np.median(means, 0).tolist(), np.median(stds, 0).tolist(), rest.tolist())


def dofs_to_articulation(
    z: np.ndarray,
    stats: DofStats,
    gate: np.ndarray | None = None,
    *,
    close_below: float = 0.025,
    max_open: float = 0.45,
) -> np.ndarray:
    """Predicted per-clip z-scores of the DOFs -> the articulation array.

    ``jaw_open = mean_open + std_open * z_open`` (clipped to [0, ``max_open``]), so the
    drawn inner-lip gap is the predicted opening in eye-corner units; the mouth width
    ``mean_width + std_width * z_width`` becomes ``lip_width`` (relative to the mean
    width, compensated for the narrowing that rounding draws);
    ``lip_round`` rises with protrusion and narrowing; ``lip_close`` rises to 1 as the
    opening falls from ``close_below`` to 0; ``upper_up``, ``lower_down``, ``smile`` are
    ``std * z`` (eye-corner units about the speaker's mean). Where ``gate`` is 0 (silence)
    every z-score is blended to the real faces' rest value ``stats.rest_z``.

    Parameters
    ----------
    z : np.ndarray, shape (T, 6)
        Columns :data:`DOF_NAMES`.
    stats : DofStats
    gate : np.ndarray, shape (T,), optional
        Speech activity in [0, 1] (default: all speech).

    Returns
    -------
    np.ndarray, float32, shape (T, 7)
        Columns :data:`ARTICULATION_NAMES`.
    """
    from ..models.phonetic import ROUND_NARROWING

    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != len(DOF_NAMES):
        raise InvalidArgumentError(f"z.shape={z.shape} must be (T, {len(DOF_NAMES)})")
    z = np.nan_to_num(z)
    if gate is not None:
        g = np.clip(np.asarray(gate, dtype=np.float64).reshape(-1), 0.0, 1.0)
        if g.shape != (len(z),):
            raise InvalidArgumentError(f"gate.shape={g.shape} must be ({len(z)},)")
        z = g[:, None] * z + (1.0 - g[:, None]) * np.asarray(stats.rest_z)[None]
    mu, sd = np.asarray(stats.mean), np.asarray(stats.std)
    art = np.zeros((len(z), len(ARTICULATION_NAMES)))
    jaw = np.clip(mu[0] + sd[0] * z[:, 0], 0.0, max_open)
    art[:, 0] = jaw
    rnd = np.clip(0.25 * (np.maximum(z[:, 5], 0) + np.maximum(-z[:, 1], 0)) - 0.1, 0.0, 1.0)
    art[:, 2] = rnd
    ratio = np.maximum(mu[1] + sd[1] * z[:, 1], 0.05) / max(mu[1], 1e-6)
    art[:, 1] = ratio / (1.0 - ROUND_NARROWING * rnd) - 1.0
    art[:, 3] = np.clip((close_below - jaw) / close_below, 0.0, 1.0)
    art[:, UPPER_UP] = sd[2] * z[:, 2]
    art[:, LOWER_DOWN] = sd[3] * z[:, 3]
    art[:, SMILE] = sd[4] * z[:, 4]
    return art.astype(np.float32)
