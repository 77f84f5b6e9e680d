"""The iBUG / Multi-PIE 68-point face scheme, derived from mediapipe's 468-point Face Mesh.

Index map (0-based; "right" is the subject's right, which is the image's left
in a frontal, non-mirrored picture):

==========  =======  ===========================================
group       indices  content
==========  =======  ===========================================
JAW         0-16     jaw line, from the right ear to the left ear
RIGHT_BROW  17-21    right eyebrow, outer to inner end
LEFT_BROW   22-26    left eyebrow, inner to outer end
NOSE_BRIDGE 27-30    nose bridge, between the eyes down to the tip
NOSE_BASE   31-35    lower nose, right ala, subnasale (33), left ala
RIGHT_EYE   36-41    right eye, outer corner 36, inner corner 39
LEFT_EYE    42-47    left eye, inner corner 42, outer corner 45
OUTER_LIPS  48-59    outer lip contour, right corner 48, left corner 54
INNER_LIPS  60-67    inner lip contour, corners 60 / 64, 62 upper, 66 lower
==========  =======  ===========================================

:data:`MESH_TO_68` gives, for each of the 68 points, the Face Mesh indices
whose mean is that point (one index for most points, two for a few jaw and
nose points that fall between mesh vertices). The choices were checked by
drawing them on real frontal frames (see ``docs/landmarks68.md``).

Everything here is pure numpy; arrays may carry any leading batch shape.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "N_POINTS",
    "MESH_TO_68",
    "JAW",
    "RIGHT_BROW",
    "LEFT_BROW",
    "NOSE_BRIDGE",
    "NOSE_BASE",
    "RIGHT_EYE",
    "LEFT_EYE",
    "OUTER_LIPS",
    "INNER_LIPS",
    "MOUTH",
    "GROUPS",
    "CLOSED_GROUPS",
    "POLYLINES",
    "MIRROR_68",
    "edges_68",
    "mesh_to_68",
    "mouth_openness_68",
    "mouth_openness_mesh",
    "eye_centres_68",
]

N_POINTS = 68

#: For each 68-point index, the Face Mesh vertex indices averaged to give it.
MESH_TO_68: tuple[tuple[int, ...], ...] = (
    # jaw 0-16: subject's right ear -> chin (8) -> left ear
    (127,),
    (234,),
    (93,),
    (132, 58),
    (58, 172),
    (136,),
    (150,),
    (176,),
    (152,),
    (400,),
    (379,),
    (365,),
    (397, 288),
    (361,),
    (323,),
    (454,),
    (356,),
    # right brow 17-21 (outer -> inner), upper brow edge
    (70,),
    (63,),
    (105,),
    (66,),
    (107,),
    # left brow 22-26 (inner -> outer)
    (336,),
    (296,),
    (334,),
    (293,),
    (300,),
    # nose bridge 27-30 (top -> tip)
    (168,),
    (197,),
    (5,),
    (4,),
    # nose base 31-35 (right ala -> subnasale -> left ala)
    (98,),
    (97,),
    (2,),
    (326,),
    (327,),
    # right eye 36-41: outer corner, upper lid x2, inner corner, lower lid x2
    (33,),
    (160,),
    (158,),
    (133,),
    (153,),
    (144,),
    # left eye 42-47: inner corner, upper lid x2, outer corner, lower lid x2
    (362,),
    (385,),
    (387,),
    (263,),
    (373,),
    (380,),
    # outer lips 48-59: right corner, upper lip to left corner, lower lip back
    (61,),
    (40,),
    (37,),
    (0,),
    (267,),
    (270,),
    (291,),
    (321,),
    (314,),
    (17,),
    (84,),
    (91,),
    # inner lips 60-67: right corner, upper inner lip, left corner, lower inner lip
    (78,),
    (81,),
    (13,),
    (311,),
    (308,),
    (402,),
    (14,),
    (178,),
)

JAW = tuple(range(0, 17))
RIGHT_BROW = tuple(range(17, 22))
LEFT_BROW = tuple(range(22, 27))
NOSE_BRIDGE = tuple(range(27, 31))
NOSE_BASE = tuple(range(31, 36))
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
OUTER_LIPS = tuple(range(48, 60))
INNER_LIPS = tuple(range(60, 68))
MOUTH = OUTER_LIPS + INNER_LIPS

#: Named groups in index order.
GROUPS: dict[str, tuple[int, ...]] = {
    "jaw": JAW,
    "right_brow": RIGHT_BROW,
    "left_brow": LEFT_BROW,
    "nose_bridge": NOSE_BRIDGE,
    "nose_base": NOSE_BASE,
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "outer_lips": OUTER_LIPS,
    "inner_lips": INNER_LIPS,
}

#: Groups drawn as closed loops (the last point joins the first).
CLOSED_GROUPS = frozenset({"right_eye", "left_eye", "outer_lips", "inner_lips"})

#: Polylines for drawing: (point indices, closed). The nose bridge runs into the
#: base at the subnasale so that the nose reads as one shape.
POLYLINES: tuple[tuple[tuple[int, ...], bool], ...] = (
    (JAW, False),
    (RIGHT_BROW, False),
    (LEFT_BROW, False),
    (NOSE_BRIDGE + (33,), False),
    (NOSE_BASE, False),
    (RIGHT_EYE, True),
    (LEFT_EYE, True),
    (OUTER_LIPS, True),
    (INNER_LIPS, True),
)

#: For each 68-point index, the index of its mirror image across the face's vertical
#: midline (jaw 0 <-> 16, outer eye corners 36 <-> 45, mouth corners 48 <-> 54, ...;
#: the points on the midline map to themselves). ``MIRROR_68[MIRROR_68]`` is the identity.
MIRROR_68: tuple[int, ...] = (
    *range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, 35, 34, 33, 32, 31,
    45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65,
)  # fmt: skip

_MAX_K = max(len(s) for s in MESH_TO_68)
# (68, K) index table padded by repeating the last index, with (68, K) weights.
_IDX = np.array([s + (s[-1],) * (_MAX_K - len(s)) for s in MESH_TO_68], dtype=np.intp)
_W = np.array(
    [[1.0 / len(s)] * len(s) + [0.0] * (_MAX_K - len(s)) for s in MESH_TO_68], dtype=np.float64
)


def edges_68() -> list[tuple[int, int]]:
    """Return the line segments ``(i, j)`` that draw the 68-point face.

    Returns
    -------
    list of (int, int)
        Point-index pairs, one per segment, following :data:`POLYLINES`.
    """
    out: list[tuple[int, int]] = []
    for idx, closed in POLYLINES:
        out.extend(zip(idx[:-1], idx[1:], strict=True))
        if closed:
            out.append((idx[-1], idx[0]))
    return out


def mesh_to_68(mesh: np.ndarray) -> np.ndarray:
    """Convert Face Mesh points to the 68-point scheme.

    Parameters
    ----------
    mesh : ndarray, shape (..., 468 or 478, D)
        Face Mesh vertices (any coordinates, any D >= 1; the 10 iris points of a
        refined 478-point mesh are ignored).

    Returns
    -------
    ndarray, shape (..., 68, D)
        The 68 points, float (float32 input stays float32). NaN in, NaN out.
    """
    mesh = np.asarray(mesh)
    if mesh.ndim < 2 or mesh.shape[-2] not in (468, 478):
        raise InvalidArgumentError(
            f"mesh.shape={mesh.shape} must be (..., 468 or 478, D) Face Mesh points"
        )
    dtype = mesh.dtype if np.issubdtype(mesh.dtype, np.floating) else np.float64
    picked = mesh[..., _IDX, :].astype(np.float64)  # (..., 68, K, D)
    out = np.einsum("...pkd,pk->...pd", picked, _W)
    return out.astype(dtype, copy=False)


def _check_68(lm: np.ndarray, name: str = "landmarks") -> np.ndarray:
    lm = np.asarray(lm, dtype=np.float64)
    if lm.ndim < 2 or lm.shape[-2] != N_POINTS:
        raise InvalidArgumentError(f"{name}.shape={lm.shape} must be (..., 68, D)")
    return lm


def mouth_openness_68(lm: np.ndarray) -> np.ndarray:
    """Inner lip aperture normalised by the outer eye-corner distance.

    ``|p62 - p66| / |p36 - p45|``: 0 for closed lips, about 0.3-0.6 for a wide
    open mouth, independent of the face size.

    Parameters
    ----------
    lm : ndarray, shape (..., 68, D)

    Returns
    -------
    ndarray, shape (...)
        float64; NaN where the landmarks are NaN.
    """
    lm = _check_68(lm, "lm")
    gap = np.linalg.norm(lm[..., 62, :] - lm[..., 66, :], axis=-1)
    eyes = np.linalg.norm(lm[..., 36, :] - lm[..., 45, :], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return gap / eyes


def mouth_openness_mesh(mesh: np.ndarray) -> np.ndarray:
    """Inner lip aperture of Face Mesh points: ``|m13 - m14| / |m33 - m263|``.

    Parameters
    ----------
    mesh : ndarray, shape (..., 468 or 478, D)

    Returns
    -------
    ndarray, shape (...)
        float64; NaN where the mesh is NaN.
    """
    return _mesh_ratio(mesh, 13, 14)


def mouth_width_mesh(mesh: np.ndarray) -> np.ndarray:
    """Mouth-corner distance of Face Mesh points: ``|m61 - m291| / |m33 - m263|``.

    Parameters
    ----------
    mesh : ndarray, shape (..., 468 or 478, D)

    Returns
    -------
    ndarray, shape (...)
        float64; NaN where the mesh is NaN.
    """
    return _mesh_ratio(mesh, 61, 291)


def _mesh_ratio(mesh: np.ndarray, a: int, b: int) -> np.ndarray:
    """``|m_a - m_b|`` over the outer eye corners ``|m33 - m263|`` (checked shape)."""
    mesh = np.asarray(mesh, dtype=np.float64)
    if mesh.ndim < 2 or mesh.shape[-2] not in (468, 478):
        raise InvalidArgumentError(
            f"mesh.shape={mesh.shape} must be (..., 468 or 478, D) Face Mesh points"
        )
    num = np.linalg.norm(mesh[..., a, :] - mesh[..., b, :], axis=-1)
    eyes = np.linalg.norm(mesh[..., 33, :] - mesh[..., 263, :], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / eyes


def eye_centres_68(lm: np.ndarray) -> np.ndarray:
    """Centres of the two eyes (mean of each eye's six points).

    Parameters
    ----------
    lm : ndarray, shape (..., 68, D)

    Returns
    -------
    ndarray, shape (..., 2, D)
        ``[..., 0, :]`` the subject's right eye (image left), ``[..., 1, :]`` the left eye.
    """
    lm = _check_68(lm, "lm")
    right = lm[..., RIGHT_EYE, :].mean(axis=-2)
    left = lm[..., LEFT_EYE, :].mean(axis=-2)
    return np.stack([right, left], axis=-2)
