"""The mouth's degrees of freedom: measured on real faces, and turned into every output.

One place for the geometry of the learned mouth (mouth v2): the same numbers drive the 68
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
:func:`articulation_to_landmarks` draws on the 68-point face and
:func:`talkinghead.models.blendshape_bridge.articulation_to_blendshapes` turns into ARKit
weights. Its first four columns are :data:`talkinghead.face.visemes.PARAMS`, so every older
consumer keeps working.

Pure numpy, cheap to import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InvalidArgumentError
from .landmarks68 import MIRROR_68, mouth_openness_mesh, mouth_width_mesh
from .visemes import JAW_OPEN, LIP_CLOSE, LIP_ROUND, LIP_WIDTH, PARAMS

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
    "DEFAULT_NEUTRAL_68",  # noqa: F822 (module __getattr__: read on first use)
    "ROUND_NARROWING",
    "check_neutral_68",
    "articulation_to_landmarks",
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
        out[:, _I["width"]] = mouth_width_mesh(m)
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
    ``lip_round`` rises with protrusion and narrowing, capped so that the narrowing it draws
    (``ROUND_NARROWING * lip_round``) never exceeds the predicted narrowing: ``lip_width`` is
    then <= 0 wherever ``lip_round`` > 0, so rounding alone never spreads the mouth
    (mouthStretch / mouthSmile of the blendshape bridge
    come only from a mouth wider than the mean), and protrusion at an unchanged width
    does not round; ``lip_close`` rises to 1 as the
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
    ratio = np.maximum(mu[1] + sd[1] * z[:, 1], 0.05) / max(mu[1], 1e-6)
    rnd = np.clip(0.25 * (np.maximum(z[:, 5], 0) + np.maximum(-z[:, 1], 0)) - 0.1, 0.0, 1.0)
    # rounding draws a narrowing of ROUND_NARROWING * lip_round: never more than the predicted
    # narrowing, else lip_width would have to widen it back (a spread, mouthStretch, on "oo")
    rnd = np.minimum(rnd, np.maximum(1.0 - ratio, 0.0) / ROUND_NARROWING)
    art[:, 2] = rnd
    art[:, 1] = ratio / (1.0 - ROUND_NARROWING * rnd) - 1.0
    art[:, 3] = np.clip((close_below - jaw) / close_below, 0.0, 1.0)
    art[:, UPPER_UP] = sd[2] * z[:, 2]
    art[:, LOWER_DOWN] = sd[3] * z[:, 3]
    art[:, SMILE] = sd[4] * z[:, 4]
    return art.astype(np.float32)


# --------------------------------------------------------------------------- neutral face


def _symmetric_closed(face: np.ndarray) -> np.ndarray:
    """``face`` (68, 2, eye-pinned: midline at x = 0) made left-right symmetric, with the
    inner lips closed (61-63 on 67-65, at their midpoints)."""
    p = 0.5 * (face + face[list(MIRROR_68)] * [-1.0, 1.0])
    lips = 0.5 * (p[_PAIRS_UP] + p[_PAIRS_LO])
    p[_PAIRS_UP] = lips
    p[_PAIRS_LO] = lips
    return p


_DEFAULT_NEUTRAL: np.ndarray | None = None


def _default_neutral() -> np.ndarray:
    """``DEFAULT_NEUTRAL_68`` (68, 2), float64, read-only: the face that
    :func:`articulation_to_landmarks` deforms when given none.

    It is the package's one neutral face, the tracked mean face
    :func:`talkinghead.face.normalize.neutral_face_68` (``data/face_reference.npz``),
    made exactly left-right symmetric and with its inner lips exactly closed, so that
    the rest pose has zero mouth opening and the articulation acts on a symmetric mouth.
    Eye-pinned units: eye centres at (-0.5, 0) and (0.5, 0), y downward. Read from the
    package data on first use (module ``__getattr__``), not on import.
    """
    global _DEFAULT_NEUTRAL
    if _DEFAULT_NEUTRAL is None:
        from .normalize import neutral_face_68

        p = _symmetric_closed(neutral_face_68())
        p.flags.writeable = False
        _DEFAULT_NEUTRAL = p
    return _DEFAULT_NEUTRAL


def __getattr__(name: str):
    if name == "DEFAULT_NEUTRAL_68":
        return _default_neutral()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- landmarks

# jaw drop weights: lower lip (outer 55-59, inner 65-67), lip corners, jaw line 4-12
_LOWER_OUTER = np.array([55, 56, 57, 58, 59])
_LOWER_OUTER_W = np.array([0.7, 0.92, 1.0, 0.92, 0.7])
_LOWER_INNER = np.array([65, 66, 67])
_LOWER_INNER_W = np.array([0.88, 1.0, 0.88])
_CORNERS = np.array([48, 54, 60, 64])
_CORNER_W = 0.45
_JAW = np.arange(3, 14)
_JAW_W = 0.5 * (1.0 + np.cos(np.pi * (_JAW - 8) / 5.0))  # 1 at the chin, 0 at 3 and 13
# inner-lip pairs (upper, lower) and the outer points that follow them
_PAIRS_UP = np.array([61, 62, 63])
_PAIRS_LO = np.array([67, 66, 65])
_UPPER_SHARE = 0.4  # the upper lip covers 40 % of the closing, the lower lip 60 %
_MOUTH = np.arange(48, 68)
_UPPER_OUTER = np.array([49, 50, 51, 52, 53])
_UPPER_OUTER_W = np.array([0.7, 0.92, 1.0, 0.92, 0.7])


def check_neutral_68(neutral) -> np.ndarray:
    """``neutral`` (68, 2) checked (finite, distinct eye and mouth corners), float64;
    None gives :data:`DEFAULT_NEUTRAL_68`."""
    if neutral is None:
        return np.asarray(_default_neutral(), dtype=np.float64)
    n = np.asarray(neutral, dtype=np.float64)
    if n.shape != (68, 2):
        raise InvalidArgumentError(f"neutral.shape={n.shape} must be (68, 2)")
    if not np.all(np.isfinite(n)):
        raise InvalidArgumentError("neutral must hold finite coordinates (found NaN/inf)")
    if np.linalg.norm(n[45] - n[36]) <= 0 or np.linalg.norm(n[54] - n[48]) <= 0:
        raise InvalidArgumentError(
            "neutral must have distinct outer eye corners (36, 45) and mouth corners (48, 54)"
        )
    return n


#: How much ``lip_round = 1`` narrows the mouth (fraction of its width).
ROUND_NARROWING = 0.35
#: Outer lip points moved by the ``upper_up`` / ``lower_down`` / ``smile`` columns of a
#: 7-column articulation (:data:`talkinghead.face.articulation.ARTICULATION_NAMES`).
_CORNERS_SMILE_W = np.array([1.0, 1.0, 0.8, 0.8])


def articulation_to_landmarks(
    articulation: np.ndarray,
    *,
    neutral: np.ndarray | None = None,
    round_narrowing: float = ROUND_NARROWING,
    round_pout: float = 0.05,
) -> np.ndarray:
    """Deform a neutral 68-point face by articulation parameters.

    Works in the face's own frame (x along the outer eye corners 36 -> 45, y
    perpendicular towards the mouth), so any similarity-transformed neutral works
    (pixels or normalised units, y up or down).

    - ``jaw_open`` (fraction of ``|p36 - p45|``) lowers the lower lip (outer 55-59,
      inner 65-67), the lip corners (45 % of it) and the jaw line 4-12 (fully at the
      chin 8, smoothly less towards 4 and 12);
    - ``lip_width`` scales the mouth width about the mouth centre by ``1 + lip_width``;
    - ``lip_round`` narrows the mouth by ``round_narrowing * lip_round`` of its width,
      opens the lateral inner points like the centre (an "o" instead of a slit) and
      pouts the outer lips (``round_pout * lip_round`` of ``|p36 - p45|`` outwards);
    - ``lip_close`` shrinks each inner-lip gap (61-67, 62-66, 63-65) by the factor
      ``1 - lip_close`` (upper lip 40 %, lower lip 60 % of the way); the outer lips
      follow, so at 1 the inner lips coincide;
    - with 7 columns (:data:`talkinghead.face.articulation.ARTICULATION_NAMES`, the learned
      mouth) also ``upper_up`` raises the outer upper lip 49-53, ``lower_down`` lowers the
      outer lower lip 55-59, and ``smile`` raises the lip corners 48, 54 (and 80 % of it the
      inner corners 60, 64), each by that fraction of ``|p36 - p45|``; the inner-lip gap
      (the opening) is left as ``jaw_open`` drew it.

    Parameters
    ----------
    articulation : np.ndarray, shape (n_frames, 4 or 7) or (4,) or (7,)
        Columns ``jaw_open, lip_width, lip_round, lip_close`` [, ``upper_up, lower_down,
        smile``].
    neutral : np.ndarray, shape (68, 2), optional
        The neutral face (default :data:`DEFAULT_NEUTRAL_68`).
    round_narrowing, round_pout : float
        Strength of rounding (see above).

    Returns
    -------
    np.ndarray, shape (n_frames, 68, 2) (or (68, 2) for a single frame), float32
        In the units of ``neutral``.
    """
    a = np.asarray(articulation, dtype=np.float64)
    single = a.ndim == 1
    if single:
        a = a[None]
    if a.ndim != 2 or a.shape[1] not in (len(PARAMS), len(PARAMS) + 3):
        raise InvalidArgumentError(
            f"articulation.shape={np.shape(articulation)} must be (n_frames, 4 or 7) or (4,)"
        )
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError("articulation must be finite (found NaN/inf)")
    n = check_neutral_68(neutral)
    iod = float(np.linalg.norm(n[45] - n[36]))
    ex = (n[45] - n[36]) / iod
    ey = np.array([-ex[1], ex[0]])
    origin = 0.5 * (n[48] + n[54])
    eye_mid = 0.5 * (n[36] + n[45])
    if np.dot(origin - eye_mid, ey) < 0:
        ey = -ey
    basis = np.stack([ex, ey])  # rows: local axes
    local = (n - origin) @ basis.T  # (68, 2): u along the eyes, v towards the chin

    T = a.shape[0]
    jaw = np.maximum(a[:, JAW_OPEN], 0.0) * iod  # (T,)
    width = a[:, LIP_WIDTH]
    rnd = np.clip(a[:, LIP_ROUND], 0.0, 1.0)
    close = np.clip(a[:, LIP_CLOSE], 0.0, 1.0)
    pts = np.broadcast_to(local, (T, 68, 2)).copy()

    # horizontal: spreading and rounding narrow/widen the mouth about its centre
    sx = (1.0 + width) * (1.0 - round_narrowing * rnd)
    pts[:, _MOUTH, 0] *= sx[:, None]
    # rounding pouts the outer lips (thicker-looking lips, rounder contour)
    pout = round_pout * iod * rnd
    pts[:, _UPPER_OUTER, 1] -= pout[:, None] * _UPPER_OUTER_W
    pts[:, _LOWER_OUTER, 1] += pout[:, None] * _LOWER_OUTER_W
    # jaw: lower lip, corners and jaw line drop
    pts[:, _LOWER_OUTER, 1] += jaw[:, None] * _LOWER_OUTER_W
    inner_w = _LOWER_INNER_W + (1.0 - _LOWER_INNER_W) * rnd[:, None]  # rounder "o"
    pts[:, _LOWER_INNER, 1] += jaw[:, None] * inner_w
    pts[:, _CORNERS, 1] += (_CORNER_W * jaw)[:, None]
    pts[:, _JAW, 1] += jaw[:, None] * _JAW_W
    # lip closure: move each inner pair towards its meeting point; the outer lips follow
    d = pts[:, _PAIRS_LO] - pts[:, _PAIRS_UP]  # (T, 3, 2)
    up = close[:, None, None] * _UPPER_SHARE * d
    lo = -close[:, None, None] * (1.0 - _UPPER_SHARE) * d
    pts[:, _PAIRS_UP] += up
    pts[:, _PAIRS_LO] += lo
    pts[:, [50, 51, 52]] += up
    pts[:, [49, 53]] += 0.5 * up[:, [0, 2]]
    pts[:, [58, 57, 56]] += lo
    pts[:, [59, 55]] += 0.5 * lo[:, [0, 2]]
    if a.shape[1] > len(PARAMS):  # the learned mouth's extra lip motions (v points down)
        pts[:, _UPPER_OUTER, 1] -= (a[:, 4] * iod)[:, None] * _UPPER_OUTER_W
        pts[:, _LOWER_OUTER, 1] += (a[:, 5] * iod)[:, None] * _LOWER_OUTER_W
        pts[:, _CORNERS, 1] -= (a[:, 6] * iod)[:, None] * _CORNERS_SMILE_W

    out = origin + pts @ basis  # back to the neutral's frame
    out = out.astype(np.float32)
    return out[0] if single else out
