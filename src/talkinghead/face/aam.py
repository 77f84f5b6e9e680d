"""A person-specific Active Appearance Model (AAM): the face code of Sakurai et al. (2018).

The code of one frame is ``(p; lambda)``: shape PCA parameters ``p`` followed by
appearance PCA parameters ``lambda`` (Sakurai et al. 2018 keep 98 % of the shape
variance, 8 + 8 parameters; Fan et al. 2015 use an AAM of the lower face).

Shape
    The 68 iBUG landmarks (:mod:`talkinghead.face.landmarks68`), the scheme every
    animator and recipe of the package predicts, so an AAM code converts to and
    from the landmarks the rest of the toolkit uses. (The 468-point mesh would
    give a finer warp but no animator predicts it.) Every frame is aligned with a
    2-D similarity onto the mean shape, fitted on ``align_on`` points (default:
    nose bridge and eyes, :data:`STABLE_68`, so that jaw and lip motion stay in the
    shape parameters instead of leaking into the pose). The mean shape is in
    eye-pinned units (eye centres at (-0.5, 0) and (0.5, 0), y down), like
    :func:`talkinghead.face.normalize.neutral_face_68`. PCA keeps ``variance`` of
    the aligned-shape variance.
Point subset
    ``points`` (e.g. the lower face, :data:`talkinghead.recipes.shape.LOWER_FACE_68`:
    jaw, nose base and lips, as Fan et al.'s lower-face AAM) restricts the model to those
    landmarks: frames are still aligned on ``align_on`` of the 68 tracked points, the
    shape PCA covers only the subset's coordinates (the other points stay at the mean
    shape in :meth:`AAM.decode`), and the texture covers only the Delaunay triangles of
    the subset's mean shape (no border points) whose centroid lies inside ``outline``
    (a polygon of landmark indices; :data:`LOWER_FACE_OUTLINE`: the jaw line and the nose
    base, so that the region stops below the eyes; default: the subset's convex hull), so
    :meth:`AAM.render` pastes only that region. The variance ratios are those of the
    subset.
Appearance
    Each frame's face is warped (piecewise affine, :class:`~.warp.FixedTargetWarp`)
    onto the mean shape drawn on a ``size`` x ``size`` reference frame. The
    triangulation is the Delaunay triangulation of the mean shape plus
    :data:`N_BORDER` border points on an ellipse around it (the border points
    follow each frame's similarity transform), so the texture covers the forehead
    and a margin around the jaw. PCA over the RGB pixels inside the triangulation
    keeps ``appearance_variance`` of the variance.

Arrays: ``landmarks`` are (68, 2) image pixels; codes are float32 ``(n_shape +
n_appearance,)``; textures are uint8 ``(size, size, 3)`` RGB.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FaceNotFoundError, InvalidArgumentError, MediaError
from .normalize import DEFAULT_EYES, SimilarityTransform
from .warp import FixedTargetWarp, delaunay, feather_mask, piecewise_affine_maps

__all__ = [
    "AAM",
    "STABLE_68",
    "LOWER_FACE_OUTLINE",
    "N_BORDER",
    "fit_similarity",
    "pca_fit",
    "aam_code_targets",
]

#: Nose bridge (27-30) and eyes (36-47): the points a frame is aligned on by default.
STABLE_68 = tuple(range(27, 31)) + tuple(range(36, 48))
#: Outline of the lower face: the jaw line (0-16), then the nose base (35-31) back to 0.
LOWER_FACE_OUTLINE = tuple(range(0, 17)) + tuple(range(35, 30, -1))
#: Border points around the mean shape (extend the warp to forehead and margin).
N_BORDER = 16
_FORMAT = "talkinghead-aam-1"


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> SimilarityTransform:
    """Least-squares 2-D similarity ``dst ~ s R src + t``
    (:func:`talkinghead.face.geometry.similarity_fit`) as a :class:`SimilarityTransform`.

    Parameters
    ----------
    src, dst : ndarray, shape (N, 2)

    Returns
    -------
    SimilarityTransform
    """
    from .geometry import similarity_fit

    src = np.asarray(src, dtype=np.float64)
    if not ((src - src.mean(0)) ** 2).sum() > 0:
        raise InvalidArgumentError("src points must not all coincide")
    s, R, t = similarity_fit(src, dst)
    ang = float(np.arctan2(R[1, 0], R[0, 0]))
    return SimilarityTransform(float(s), ang, (float(t[0]), float(t[1])))


def pca_fit(
    x: np.ndarray, *, variance: float, n_components: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of rows ``x`` (N, D).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    variance : float
        Keep the fewest components whose cumulative variance ratio reaches this.
    n_components : int, optional
        Keep exactly this many instead (at most ``min(N, D)``).

    Returns
    -------
    mean : ndarray, shape (D,)
    components : ndarray, shape (K, D)
        Orthonormal rows.
    explained : ndarray, shape (K,)
        Variance of each kept component (same units as ``x`` squared).
    """
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    xc = x - mean
    if len(x) < x.shape[1]:
        # Gram trick: eigen-decompose the N x N matrix
        G = xc @ xc.T
        ev, U = np.linalg.eigh(G)
        order = np.argsort(ev)[::-1]
        ev, U = np.clip(ev[order], 0, None), U[:, order]
        keep = ev > ev[0] * 1e-12 if ev[0] > 0 else np.zeros(len(ev), bool)
        ev, U = ev[keep], U[:, keep]
        comps = (U.T @ xc) / np.sqrt(ev)[:, None]
        var = ev / max(len(x) - 1, 1)
    else:
        _, S, Vt = np.linalg.svd(xc, full_matrices=False)
        comps, var = Vt, S**2 / max(len(x) - 1, 1)
    total = var.sum()
    if n_components is not None:
        k = int(min(max(1, n_components), len(var)))
    elif total > 0:
        k = int(np.searchsorted(np.cumsum(var) / total, variance - 1e-12) + 1)
        k = min(k, len(var))
    else:
        k = 1 if len(var) else 0
    if k == 0:  # every row identical: one zero component keeps the code non-empty
        return mean, np.zeros((1, x.shape[1])), np.zeros(1)
    return mean, comps[:k], var[:k]


@dataclass
class AAM:
    """A fitted appearance model (build with :meth:`fit` or :meth:`from_video`).

    Attributes
    ----------
    mean_shape : ndarray, shape (68, 2)
        Eye-pinned units.
    shape_components : ndarray, shape (n_shape, 136)
    shape_variance : ndarray, shape (n_shape,)
    shape_variance_ratio : float
        Share of the aligned-shape variance the kept components explain.
    border : ndarray, shape (N_BORDER, 2)
        Border points, eye-pinned units.
    size : int
        Side of the square reference frame (pixels).
    ref_scale, ref_offset : float, ndarray (2,)
        Eye-pinned units -> reference pixels: ``px = ref_scale * u + ref_offset``.
    triangles : ndarray, shape (K, 3)
        Over the 68 + N_BORDER control points.
    mean_texture : ndarray, shape (P * 3,), float32
        Mean RGB of the P reference pixels inside the triangulation (0-255).
    appearance_components : ndarray, shape (n_appearance, P * 3), float32
    appearance_variance : ndarray, shape (n_appearance,)
    appearance_variance_ratio : float
    align_on : tuple of int
    points : tuple of int or None
        The landmarks the model covers (None: all 68); ``shape_components`` then has
        ``2 * len(points)`` columns.
    """

    mean_shape: np.ndarray
    shape_components: np.ndarray
    shape_variance: np.ndarray
    shape_variance_ratio: float
    border: np.ndarray
    size: int
    ref_scale: float
    ref_offset: np.ndarray
    triangles: np.ndarray
    mean_texture: np.ndarray
    appearance_components: np.ndarray
    appearance_variance: np.ndarray
    appearance_variance_ratio: float
    align_on: tuple = STABLE_68
    points: tuple | None = None

    def __post_init__(self) -> None:
        self._warp: FixedTargetWarp | None = None

    # ------------------------------------------------------------------ properties

    @property
    def n_shape(self) -> int:
        return int(len(self.shape_components))

    @property
    def n_appearance(self) -> int:
        return int(len(self.appearance_components))

    @property
    def n_code(self) -> int:
        return self.n_shape + self.n_appearance

    @property
    def point_index(self) -> list[int]:
        """The modelled landmarks (all 68 without a point subset)."""
        return list(range(68)) if self.points is None else list(self.points)

    @property
    def reference_points(self) -> np.ndarray:
        """(68 + N_BORDER, 2) mean shape and border in reference-frame pixels."""
        return self.ref_scale * np.concatenate([self.mean_shape, self.border]) + self.ref_offset

    @property
    def warp(self) -> FixedTargetWarp:
        if self._warp is None:
            self._warp = FixedTargetWarp(
                self.reference_points, self.triangles, (self.size, self.size)
            )
        return self._warp

    @property
    def mask(self) -> np.ndarray:
        """(size, size) bool: reference pixels the texture covers."""
        return self.warp.mask

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(
        cls,
        frames,
        landmarks: np.ndarray,
        *,
        variance: float = 0.98,
        appearance_variance: float = 0.98,
        n_shape: int | None = None,
        n_appearance: int | None = None,
        size: int = 128,
        align_on: tuple = STABLE_68,
        points=None,
        outline=None,
    ) -> AAM:
        """Build the model from frames and their tracked landmarks.

        Parameters
        ----------
        frames : sequence of ndarray, shape (H, W, 3) uint8 RGB, or array (T, H, W, 3)
        landmarks : ndarray, shape (T, 68, 2)
            Pixels; frames with NaN landmarks are skipped.
        variance, appearance_variance : float in (0, 1]
            Share of shape / appearance variance to keep (Sakurai et al.: 0.98 shape).
        n_shape, n_appearance : int, optional
            Fixed component counts instead (Sakurai et al.: 8 and 8).
        size : int
            Reference frame side in pixels (>= 32).
        align_on : tuple of int
            Points that define each frame's similarity transform.
        points : sequence of int, optional
            Model only these landmarks (at least 3 distinct indices in 0-67; e.g. the
            lower face). None: all 68.
        outline : sequence of int, optional
            With ``points``: a polygon of landmark indices (e.g. :data:`LOWER_FACE_OUTLINE`);
            only the subset's triangles with their centroid inside it are textured.

        Returns
        -------
        AAM
        """
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.ndim != 3 or lm.shape[1:] != (68, 2):
            raise InvalidArgumentError(f"landmarks.shape={lm.shape} must be (T, 68, 2)")
        if len(frames) != len(lm):
            raise InvalidArgumentError(
                f"len(frames)={len(frames)} must equal len(landmarks)={len(lm)}"
            )
        for name, v in (("variance", variance), ("appearance_variance", appearance_variance)):
            if not 0 < float(v) <= 1:
                raise InvalidArgumentError(f"{name}={v!r} must be in (0, 1]")
        if int(size) < 32:
            raise InvalidArgumentError(f"size={size!r} must be >= 32")
        ok = np.flatnonzero(np.isfinite(lm).all(axis=(1, 2)))
        if len(ok) < 2:
            raise FaceNotFoundError(
                f"landmarks hold {len(ok)} frames with a face; an AAM needs at least 2"
            )
        lm = lm[ok]
        align_on = tuple(int(i) for i in align_on)
        if points is not None:
            pts_in = [int(i) for i in points]
            if len(set(pts_in)) < 3 or min(pts_in) < 0 or max(pts_in) > 67:
                raise InvalidArgumentError(
                    f"points={list(points)!r} must hold at least 3 distinct indices in 0-67"
                )
            points = tuple(sorted(set(pts_in)))
        sub = list(range(68)) if points is None else list(points)

        # generalised Procrustes onto an eye-pinned mean
        ref = _pin(lm[0])
        for _ in range(4):
            aligned = np.stack([fit_similarity(x[list(align_on)], ref[list(align_on)]).apply(x)
                                for x in lm])  # fmt: skip
            ref = _pin(aligned.mean(axis=0))
        aligned = np.stack(
            [fit_similarity(x[list(align_on)], ref[list(align_on)]).apply(x) for x in lm]
        )
        mean_sub, comps, var = pca_fit(
            aligned[:, sub].reshape(len(aligned), -1), variance=variance, n_components=n_shape
        )
        xc = aligned[:, sub].reshape(len(aligned), -1) - mean_sub
        total = float((xc**2).sum() / max(len(xc) - 1, 1))
        shape_ratio = float(var.sum() / total) if total > 0 else 1.0
        mean_shape = aligned.mean(axis=0)
        mean_shape[sub] = mean_sub.reshape(len(sub), 2)

        border = _border_points(mean_shape)
        pts = np.concatenate([mean_shape, border])
        if points is None:
            lo, hi = pts.min(0), pts.max(0)
            triangles = delaunay(pts)
        else:  # the subset's own triangulation: the texture covers that region only
            lo, hi = mean_shape[sub].min(0), mean_shape[sub].max(0)
            triangles = np.asarray(sub, dtype=np.int32)[delaunay(mean_shape[sub])]
            if outline is not None:
                poly = mean_shape[[int(i) for i in outline]]
                inside = _inside_polygon(mean_shape[triangles].mean(axis=1), poly)
                if not inside.any():
                    raise InvalidArgumentError(
                        f"outline={list(outline)!r} must enclose some of the points' triangles"
                    )
                triangles = triangles[inside]
        ref_scale = float((size - 4) / (hi - lo).max())
        ref_offset = (size - 1) / 2.0 - ref_scale * (lo + hi) / 2.0
        model = cls(
            mean_shape=mean_shape,
            shape_components=comps,
            shape_variance=var,
            shape_variance_ratio=shape_ratio,
            border=border,
            size=int(size),
            ref_scale=ref_scale,
            ref_offset=np.asarray(ref_offset, dtype=np.float64),
            triangles=triangles,
            mean_texture=np.zeros(0, np.float32),
            appearance_components=np.zeros((0, 0), np.float32),
            appearance_variance=np.zeros(0),
            appearance_variance_ratio=1.0,
            align_on=align_on,
            points=points,
        )
        textures = np.stack(
            [model._texture_vector(frames[int(i)], x) for i, x in zip(ok, lm, strict=True)]
        )
        mean_tex, acomps, avar = pca_fit(
            textures, variance=appearance_variance, n_components=n_appearance
        )
        tc = textures - mean_tex
        atotal = float((tc.astype(np.float64) ** 2).sum() / max(len(tc) - 1, 1))
        model.mean_texture = mean_tex.astype(np.float32)
        model.appearance_components = acomps.astype(np.float32)
        model.appearance_variance = avar
        model.appearance_variance_ratio = float(avar.sum() / atotal) if atotal > 0 else 1.0
        return model

    @classmethod
    def from_video(
        cls,
        path: str | os.PathLike,
        *,
        max_frames: int | None = None,
        size: int | None = None,
        **kwargs,
    ) -> AAM:
        """Track a video of one person and fit the model to its frames.

        Parameters
        ----------
        path : str or path
        max_frames : int, optional
            Use only the first frames.
        size : int, optional
            Downscale frames (longer side) before tracking and fitting.
        **kwargs
            Passed to :meth:`fit` (``variance``, ``n_shape``, ...).
        """
        from ..video.io import read_video
        from .tracking import track_frames

        video = read_video(path, max_frames=max_frames, size=size)
        track = track_frames(video.frames, fps=video.fps)
        lm = track.landmarks68.astype(np.float64)
        lm[~track.valid] = np.nan
        if not track.valid.any():
            raise FaceNotFoundError(f"path='{path}' has no frame with exactly one face")
        return cls.fit(video.frames, lm, **kwargs)

    # ------------------------------------------------------------------ coding

    def similarity(self, landmarks: np.ndarray) -> SimilarityTransform:
        """The transform from model (eye-pinned) units to the image of ``landmarks`` (68, 2)."""
        lm = _check_one(landmarks)
        idx = list(self.align_on)
        return fit_similarity(self.mean_shape[idx], lm[idx])

    def _texture_vector(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        img = _check_frame(frame)
        sim = self.similarity(landmarks)
        src = np.concatenate([landmarks, sim.apply(self.border)])
        tex = self.warp.warp(img, src)
        return tex[self.mask].reshape(-1).astype(np.float32)

    def texture(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The shape-normalised face texture (size, size, 3) uint8 of one frame."""
        img = _check_frame(frame)
        lm = _check_one(landmarks)
        src = np.concatenate([lm, self.similarity(lm).apply(self.border)])
        return self.warp.warp(img, src)

    def encode_shape(self, landmarks: np.ndarray) -> np.ndarray:
        """Shape parameters (n_shape,) of landmarks (68, 2) in pixels."""
        lm = _check_one(landmarks)
        aligned = self.similarity(lm).inverse().apply(lm)
        d = (aligned - self.mean_shape)[self.point_index]
        return (d.reshape(-1) @ self.shape_components.T).astype(np.float32)

    def encode(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The code ``(p; lambda)`` of one frame.

        Parameters
        ----------
        frame : ndarray, shape (H, W, 3) uint8 RGB
        landmarks : ndarray, shape (68, 2)
            The frame's landmarks in pixels.

        Returns
        -------
        ndarray, shape (n_shape + n_appearance,), float32
        """
        lm = _check_one(landmarks)
        p = self.encode_shape(lm)
        t = self._texture_vector(frame, lm) - self.mean_texture
        lam = t @ self.appearance_components.T
        return np.concatenate([p, lam]).astype(np.float32)

    def _split(self, code) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(code, dtype=np.float64)
        if c.shape != (self.n_code,):
            raise InvalidArgumentError(
                f"code.shape={c.shape} must be ({self.n_code},) = n_shape + n_appearance"
            )
        return c[: self.n_shape], c[self.n_shape :]

    def decode(self, code) -> tuple[np.ndarray, np.ndarray]:
        """Landmarks and texture of a code.

        Returns
        -------
        landmarks : ndarray, shape (68, 2)
            Model (eye-pinned) units; map to an image with a similarity
            (:meth:`similarity` of that image's landmarks). With a point subset, the
            points outside it are the mean shape's.
        texture : ndarray, shape (size, size, 3), uint8
            Shape-normalised texture (0 outside :attr:`mask`).
        """
        p, lam = self._split(code)
        shape = self.mean_shape.copy()
        idx = self.point_index
        shape[idx] = shape[idx] + (p @ self.shape_components).reshape(len(idx), 2)
        vec = self.mean_texture + (lam @ self.appearance_components.astype(np.float64))
        tex = np.zeros((self.size, self.size, 3), dtype=np.uint8)
        tex[self.mask] = np.clip(np.round(vec), 0, 255).reshape(-1, 3).astype(np.uint8)
        return shape, tex

    def render(
        self,
        code,
        *,
        background_frame: np.ndarray,
        similarity: SimilarityTransform,
        feather: float | None = None,
    ) -> np.ndarray:
        """Paste the decoded face into a frame.

        Parameters
        ----------
        code : ndarray, shape (n_code,)
        background_frame : ndarray, shape (H, W, 3) uint8
        similarity : SimilarityTransform
            Model units -> frame pixels (e.g. :meth:`similarity` of the frame's
            tracked landmarks).
        feather : float, optional
            Feather width in pixels (default 4 % of the face width).

        Returns
        -------
        ndarray, shape (H, W, 3) uint8
        """
        import cv2

        bg = _check_frame(background_frame)
        shape, tex = self.decode(code)
        dst = similarity.apply(np.concatenate([shape, self.border]))
        h, w = bg.shape[:2]
        mx, my, ids, (x0, y0, x1, y1) = piecewise_affine_maps(
            self.reference_points, dst, self.triangles, shape=(h, w)
        )
        out = bg.copy()
        if x1 <= x0 or y1 <= y0:
            return out
        face = cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        mask = cv2.remap(self.mask.astype(np.float32), mx, my, cv2.INTER_LINEAR) * (ids > 0)
        if feather is None:
            feather = 0.04 * float(np.ptp(dst[:, 0]))
        alpha = feather_mask(mask > 0.99, radius=max(1.0, feather))[..., None]
        region = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(np.round(alpha * face + (1 - alpha) * region), 0, 255).astype(
            np.uint8
        )
        return out

    # ------------------------------------------------------------------ io

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``.npz`` atomically."""
        from .._util.atomic import save_npz_atomic

        meta = {
            "format": _FORMAT,
            "size": self.size,
            "ref_scale": self.ref_scale,
            "shape_variance_ratio": self.shape_variance_ratio,
            "appearance_variance_ratio": self.appearance_variance_ratio,
            "align_on": list(self.align_on),
            "points": None if self.points is None else list(self.points),
        }
        return save_npz_atomic(
            path,
            mean_shape=self.mean_shape,
            shape_components=self.shape_components,
            shape_variance=self.shape_variance,
            border=self.border,
            ref_offset=self.ref_offset,
            triangles=self.triangles,
            mean_texture=self.mean_texture,
            appearance_components=self.appearance_components,
            appearance_variance=self.appearance_variance,
            meta=np.array(json.dumps(meta)),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> AAM:
        """Read a model written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise MediaError(f"path='{p}' must be an AAM .npz file (not found)")
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") != _FORMAT:
                    fmt = meta.get("format")
                    raise MediaError(f"path='{p}' must be an AAM file (format {fmt!r})")
                return cls(
                    mean_shape=z["mean_shape"],
                    shape_components=z["shape_components"],
                    shape_variance=z["shape_variance"],
                    shape_variance_ratio=float(meta["shape_variance_ratio"]),
                    border=z["border"],
                    size=int(meta["size"]),
                    ref_scale=float(meta["ref_scale"]),
                    ref_offset=z["ref_offset"],
                    triangles=z["triangles"],
                    mean_texture=z["mean_texture"],
                    appearance_components=z["appearance_components"],
                    appearance_variance=z["appearance_variance"],
                    appearance_variance_ratio=float(meta["appearance_variance_ratio"]),
                    align_on=tuple(meta["align_on"]),
                    points=None if meta.get("points") is None else tuple(meta["points"]),
                )
        except (KeyError, ValueError, OSError) as e:
            raise MediaError(f"path='{p}' must be an AAM .npz file ({e})") from None


# ---------------------------------------------------------------------- helpers


def _pin(shape: np.ndarray) -> np.ndarray:
    """Move a (68, 2) shape so that its eye centres sit at DEFAULT_EYES."""
    from .landmarks68 import eye_centres_68

    tf = SimilarityTransform.from_two_points(eye_centres_68(shape), np.asarray(DEFAULT_EYES))
    return tf.apply(shape)


def _inside_polygon(p: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """(N,) bool: points ``p`` (N, 2) inside the closed polygon ``poly`` (M, 2) (even-odd)."""
    x, y = p[:, 0][:, None], p[:, 1][:, None]
    x0, y0 = poly[:, 0][None], poly[:, 1][None]
    x1, y1 = np.roll(poly[:, 0], -1)[None], np.roll(poly[:, 1], -1)[None]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (crosses & (x < xi)).sum(axis=1) % 2 == 1


def _border_points(mean_shape: np.ndarray) -> np.ndarray:
    """N_BORDER points on an ellipse around the shape, reaching up over the forehead."""
    lo, hi = mean_shape.min(0), mean_shape.max(0)
    c = (lo + hi) / 2.0
    r = (hi - lo) / 2.0
    c = c - np.array([0.0, 0.25 * r[1]])  # shift up: the forehead
    r = r * np.array([1.2, 1.35])
    a = np.linspace(0, 2 * np.pi, N_BORDER, endpoint=False)
    return c + r * np.stack([np.cos(a), np.sin(a)], axis=1)


def _check_one(landmarks) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise InvalidArgumentError(f"landmarks.shape={lm.shape} must be (68, 2)")
    if not np.isfinite(lm).all():
        raise FaceNotFoundError("landmarks hold NaN: the frame has no tracked face")
    return lm


def _check_frame(frame) -> np.ndarray:
    img = np.asarray(frame)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise InvalidArgumentError(
            f"frame.shape={img.shape}, dtype={img.dtype} must be (H, W, 3) uint8 RGB"
        )
    return img


def aam_code_targets(
    aam: AAM, clip_frames, clip_landmarks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AAM codes of every frame of a clip: the regression targets of sakurai2018 / fan2015.

    Parameters
    ----------
    aam : AAM
    clip_frames : sequence of ndarray (H, W, 3) uint8, or array (T, H, W, 3)
        The clip's frames at the resolution its landmarks are in.
    clip_landmarks : ndarray, shape (T, 68, 2)
        Pixels; NaN rows mark frames without a face.

    Returns
    -------
    codes : ndarray, shape (T, n_shape + n_appearance), float32
        Zero rows where there is no face.
    valid : ndarray, shape (T,), bool
    """
    lm = np.asarray(clip_landmarks, dtype=np.float64)
    if lm.ndim != 3 or lm.shape[1:] != (68, 2):
        raise InvalidArgumentError(f"clip_landmarks.shape={lm.shape} must be (T, 68, 2)")
    if len(clip_frames) != len(lm):
        raise InvalidArgumentError(
            f"len(clip_frames)={len(clip_frames)} must equal len(clip_landmarks)={len(lm)}"
        )
    valid = np.isfinite(lm).all(axis=(1, 2))
    codes = np.zeros((len(lm), aam.n_code), dtype=np.float32)
    for t in np.flatnonzero(valid):
        codes[t] = aam.encode(clip_frames[int(t)], lm[t])
    return codes, valid
