"""One photo -> talking frames: warp the photo's own face by the animator's landmarks
(:func:`animate_photo`; speech -> the MP4: :func:`talkinghead.pipelines.render_photo_video`).

Method
------
1. **Face.** The photo's face is found with Face Mesh in static mode
   (:class:`~talkinghead.face.tracking.FaceTracker`) on a working copy whose longer
   side is at most 1024 px (coordinates are scaled back). No face ->
   :class:`~talkinghead.errors.FaceNotFoundError`; several faces ->
   :class:`~talkinghead.errors.MultipleFacesError` unless ``face_index`` picks one
   (0 = the largest); inter-ocular distance (eye centres) under
   ``min_interocular`` pixels *of the photo as given*, or ``|yaw| > max_yaw``
   degrees -> :class:`~talkinghead.errors.FaceQualityError`. Grey-scale and RGBA
   photos are converted to RGB.

   **Size.** The video has the photo's own resolution, up to :data:`MAX_OUTPUT_SIDE`
   pixels on its longer side (a larger photo is downscaled to it, with a warning);
   ``size`` downscales further when asked (:func:`check_output_size`). Faces between
   :data:`MIN_TRACKABLE_IOD` and :data:`WORK_IOD` pixels between the eyes are *upscaled
   for processing* (a warning says so): the face crop (the static ring's box plus a
   margin) is warped and painted at a scale that gives it :data:`WORK_IOD` pixels, then
   resized back and pasted into the full-resolution photo with a feathered edge; larger
   faces are processed at the photo's own resolution. Under
   :data:`MIN_TRACKABLE_IOD` pixels (measured: ``bench/photo_small_faces.py``) the face
   is refused.
2. **Motion.** The driving landmarks are eye-pinned (eye centres one unit apart);
   per frame, the photo's own 68 landmarks receive the *displacement* of the driving
   landmarks from :func:`~talkinghead.face.normalize.neutral_face_68`, scaled by the
   photo's inter-ocular distance and rotated into the photo's in-plane pose, so
   the person keeps their own face shape.
3. **Blinks** (seeded, about 15 a minute, 120 ms): points 37, 38 / 43, 44 move
   onto 41, 40 / 47, 46 (an animation with its own ``blink`` keeps those instead).
   **Head motion**: the animation's own head rotation (``anim.rotation``, from
   :func:`talkinghead.models.expression.upper_face_motion`): yaw and pitch turn the face
   points in 3D with the canonical face's depth about the eye midpoint and project them
   back (the nose moves across the cheeks), roll turns them in the image plane, and the
   face shifts as a head turning about the neck would. Parameters without rotations (made
   by hand; :meth:`Animation.load <talkinghead.Animation.load>` gives old files theirs) get
   the seeded drift of ``upper_face_motion`` (no nods).
4. **Warp.** The 68 points plus 5 forehead points move; a ring of
   :data:`N_RING` static points on an ellipse around the face keeps hair,
   background and shoulders still. The triangulation (Delaunay of the photo's
   points with the inner lips pulled apart, so that the mouth has its own
   triangles) is fixed; each frame builds a dense backward map from the
   per-triangle affines (:func:`~talkinghead.face.warp.piecewise_affine_maps`)
   inside the ring's bounding box, and one ``cv2.remap`` warps the photo.
   Pixels outside the ring are copied unchanged.
5. **Mouth.** When the inner lips open wider than in the photo, the inner-lip
   polygon is filled with a *procedural* interior (:mod:`talkinghead.render.mouth`):
   a cavity in the photo's darkened lip colour, a row of upper teeth split into
   incisors, canines and premolars and shaded, a lower row and a tongue once the
   mouth is open wide, the teeth at the photo's exposure; blended in with a feathered
   mask.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import MOUTH_DETAIL_DIR as _MOUTH_DETAIL_DIR
from ..data import MOUTH_GENERATOR_DIR as _MOUTH_GENERATOR_DIR
from ..errors import (
    FaceNotFoundError,
    FaceQualityError,
    InvalidArgumentError,
    MediaError,
    MultipleFacesError,
)
from ..face.normalize import DEFAULT_EYES, SimilarityTransform

__all__ = [
    "PhotoFace",
    "load_photo",
    "find_photo_face",
    "PhotoAnimator",
    "animate_photo",
    "blink_curve",
    "face_box",
    "refine_face",
    "crop_square",
    "square_box",
    "check_output_size",
    "N_RING",
    "MAX_DETECT_SIDE",
    "MAX_OUTPUT_SIDE",
    "MIN_TRACKABLE_IOD",
    "WORK_IOD",
    "MOUTH_GENERATOR_DIR",
    "load_mouth_generator",
    "load_mouth_detail",
    "MOUTH_DETAIL_DIR",
    "procedural_guide",
    "guide_function",
]

#: Static points on the ellipse around the face.
N_RING = 24
#: Longer side of the working copy the face is detected on.
MAX_DETECT_SIDE = 1024
#: Longest output side: larger photos are downscaled to it.
MAX_OUTPUT_SIDE = 2048
#: Smallest accepted inter-ocular distance (px of the photo as given). Measured with
#: ``bench/photo_small_faces.py`` on 12 people (frames of real clips downscaled): Face Mesh
#: finds every face down to 6 px, but the 68 points' mean error grows from 3.0 % of the
#: eye distance at 20 px to 4.1 % at 16 px (worst 5.0 %) and 6.1 % at 12 px (worst 7.3 %).
MIN_TRACKABLE_IOD = 16.0
#: Faces with fewer pixels between the eyes are upscaled to this for processing.
WORK_IOD = 60.0
#: The warp's backward maps are computed on a grid with about this many pixels between
#: the eyes and interpolated to the full resolution (``piecewise_affine_maps(step=...)``);
#: the photo itself is sampled at full resolution.
MAP_IOD = 64.0
#: The shipped learned mouth (``animate --photo --mouth learned``), when present.
MOUTH_GENERATOR_DIR = _MOUTH_GENERATOR_DIR
#: The learned mouth's detail net for large faces (``--mouth learned``), when present.
MOUTH_DETAIL_DIR = _MOUTH_DETAIL_DIR
#: Face Mesh forehead points that move rigidly with the head.
FOREHEAD = (10, 109, 338, 67, 297)
_UPPER_INNER = (61, 62, 63)
_LOWER_INNER = (67, 66, 65)
_UPPER_OUTER = (50, 51, 52)
_LOWER_OUTER = (58, 57, 56)


@dataclass
class PhotoFace:
    """The face of a photo, ready to animate.

    Attributes
    ----------
    image : ndarray, shape (H, W, 3), uint8 RGB
        The photo at the output size.
    landmarks : ndarray, shape (68, 2)
        Pixels of ``image``.
    forehead : ndarray, shape (5, 2)
        Face Mesh forehead points (pixels).
    similarity : SimilarityTransform
        Eye-pinned units -> ``image`` pixels (from the two eye centres).
    interocular : float
        Eye-centre distance in ``image`` pixels.
    yaw : float
        Degrees (tracking convention, positive: turned towards the image's left).
    n_faces : int
        Faces found in the photo.
    grey : bool
        The photo is grey-scale (the synthesised mouth is then grey too).
    """

    image: np.ndarray
    landmarks: np.ndarray
    forehead: np.ndarray
    similarity: SimilarityTransform
    interocular: float
    yaw: float
    n_faces: int = 1
    grey: bool = False


def load_photo(photo) -> tuple[np.ndarray, str]:
    """A photo as RGB uint8 (H, W, 3) and its name for messages.

    Parameters
    ----------
    photo : str, path or ndarray
        Image file (anything OpenCV reads: jpg, png, bmp, webp, tiff, ...) or an
        array: (H, W) or (H, W, 1) grey, (H, W, 3) RGB, (H, W, 4) RGBA; uint8, or
        float in [0, 1].
    """
    if isinstance(photo, str | os.PathLike):
        import cv2

        p = Path(photo)
        if not p.is_file():
            raise MediaError(f"photo='{p}' must be an existing image file")
        data = np.fromfile(p, dtype=np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
        if img is None:
            raise MediaError(f"photo='{p}' must be an image OpenCV can decode (jpg, png, ...)")
        if img.dtype == np.uint16:
            img = (img // 257).astype(np.uint8)
        if img.ndim == 3 and img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
        elif img.ndim == 3 and img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        name = str(p)
    else:
        img = np.asarray(photo)
        name = f"<array {img.shape}>"
    if img.dtype != np.uint8:
        if np.issubdtype(img.dtype, np.floating) and img.size and np.nanmax(img) <= 1.0:
            img = np.clip(np.nan_to_num(img) * 255 + 0.5, 0, 255).astype(np.uint8)
        else:
            raise InvalidArgumentError(
                f"photo dtype={img.dtype} must be uint8 (or float in [0, 1])"
            )
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 16:
        raise InvalidArgumentError(
            f"photo.shape={img.shape} must be an image (H, W), (H, W, 3) or (H, W, 4), "
            "at least 16 px a side"
        )
    return np.ascontiguousarray(img), name


def _resize(img: np.ndarray, size: int | None) -> np.ndarray:
    import cv2

    if size is None:
        return img
    h, w = img.shape[:2]
    s = float(size) / max(h, w)
    if abs(s - 1) < 1e-9:
        return img
    nw, nh = max(2, int(round(w * s))), max(2, int(round(h * s)))
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)


def find_photo_face(
    photo,
    *,
    size: int | None = None,
    face_index: int | None = None,
    min_interocular: float = MIN_TRACKABLE_IOD,
    max_yaw: float = 45.0,
) -> PhotoFace:
    """Detect and check the face of a photo (see the module docstring).

    Parameters
    ----------
    photo : str, path or ndarray
        See :func:`load_photo`.
    size : int, optional
        Downscale the photo so that its longer side is ``size`` pixels (None: the photo's
        own size, at most :data:`MAX_OUTPUT_SIDE`); see :func:`check_output_size`.
    face_index : int, optional
        Which face to use when there are several, by decreasing size (0 = largest).
    min_interocular : float
        Smallest accepted eye-centre distance in pixels of the photo as given (default
        :data:`MIN_TRACKABLE_IOD`, measured). Faces under :data:`WORK_IOD` pixels *in the
        output* are accepted with a warning: they are upscaled for processing.
    max_yaw : float
        Largest accepted head turn in degrees.

    Returns
    -------
    PhotoFace
    """
    import cv2

    from ..face.geometry import matrix_to_rotvec, rotation_to_euler
    from ..face.landmarks68 import eye_centres_68, mesh_to_68
    from ..face.tracking import FaceTracker, fit_head_pose

    full, name = load_photo(photo)
    h, w = full.shape[:2]
    size = check_output_size(size, (h, w))
    s_det = min(1.0, MAX_DETECT_SIDE / max(h, w))
    det = (
        full
        if s_det == 1.0
        else cv2.resize(full, (round(w * s_det), round(h * s_det)), interpolation=cv2.INTER_AREA)
    )
    with FaceTracker(static_image_mode=True, max_num_faces=5) as tracker:
        faces = tracker.process(det)
    if not faces:
        raise FaceNotFoundError(f"photo={name} has no face (Face Mesh found none)")
    areas = [float(np.ptp(f[:, 0]) * np.ptp(f[:, 1])) for f in faces]
    order = np.argsort(areas)[::-1]
    faces = [faces[i] / s_det for i in order]  # full-photo pixels, largest first
    if len(faces) > 1 and face_index is None:
        boxes = ", ".join(
            f"#{i}: x={f[:, 0].min():.0f}-{f[:, 0].max():.0f} y={f[:, 1].min():.0f}-"
            f"{f[:, 1].max():.0f}"
            for i, f in enumerate(faces)
        )
        raise MultipleFacesError(
            f"photo={name} has {len(faces)} faces ({boxes}, largest first); "
            "face_index (CLI --face-index) must pick one"
        )
    k = 0 if face_index is None else int(face_index)
    if not 0 <= k < len(faces):
        raise InvalidArgumentError(
            f"face_index={face_index!r} must be in [0, {len(faces) - 1}] ({len(faces)} faces)"
        )
    mesh = faces[k]
    lm = mesh_to_68(mesh)[:, :2]
    eyes = eye_centres_68(lm)
    iod = float(np.linalg.norm(eyes[1] - eyes[0]))
    if iod < float(min_interocular):
        raise FaceQualityError(
            f"photo={name}: the face is too small (inter-ocular distance {iod:.0f} px); it must "
            f"be >= {min_interocular:g} px: use a larger or closer photo"
        )
    _, R, _, _ = fit_head_pose(mesh)
    yaw = float(np.degrees(rotation_to_euler(matrix_to_rotvec(R))[0]))
    if abs(yaw) > float(max_yaw):
        raise FaceQualityError(
            f"photo={name}: the face is turned {yaw:+.0f} degrees; |yaw| must be <= "
            f"{max_yaw:g} (a frontal or three-quarter view, not a profile)"
        )
    if size is None and max(h, w) > MAX_OUTPUT_SIDE:
        import warnings

        warnings.warn(
            f"photo={name} is {w}x{h}; the video is downscaled to {MAX_OUTPUT_SIDE} px on its "
            "longer side",
            UserWarning,
            stacklevel=2,
        )
        size = MAX_OUTPUT_SIDE
    img = _resize(full, size)
    sc = img.shape[1] / w
    if iod * sc < WORK_IOD:
        import warnings

        warnings.warn(
            f"photo={name}: the face is small (inter-ocular distance {iod * sc:.0f} px in the "
            f"output); it is upscaled to {WORK_IOD:g} px for processing (details are not "
            "invented: use a larger or closer photo for a sharper mouth)",
            UserWarning,
            stacklevel=2,
        )
    lm = lm * sc
    eyes = eyes * sc
    return PhotoFace(
        image=img,
        landmarks=lm,
        forehead=mesh[list(FOREHEAD), :2] * sc,
        similarity=SimilarityTransform.from_two_points(np.asarray(DEFAULT_EYES), eyes),
        interocular=iod * sc,
        yaw=yaw,
        n_faces=len(faces),
        grey=bool(np.array_equal(img[..., 0], img[..., 1])
                  and np.array_equal(img[..., 1], img[..., 2])),
    )  # fmt: skip


def check_output_size(size, shape: tuple[int, int]) -> int | None:
    """Validate ``size`` (the video's longer side) for a photo of ``shape`` ``(h, w)``.

    Returns ``None`` (keep the photo's size) or the size as an int. ``size`` must be an
    integer in [64, :data:`MAX_OUTPUT_SIDE`] and not larger than the photo's longer side
    (it only downscales) -> :class:`~talkinghead.errors.InvalidArgumentError` otherwise.
    """
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        if not (isinstance(size, float) and size.is_integer()):
            raise InvalidArgumentError(f"size={size!r} must be an integer number of pixels")
    size = int(size)
    longest = int(max(shape[:2]))
    if not 64 <= size <= MAX_OUTPUT_SIDE:
        raise InvalidArgumentError(f"size={size} must be in [64, {MAX_OUTPUT_SIDE}] pixels")
    if size > longest:
        raise InvalidArgumentError(
            f"size={size} must be <= {longest}, the photo's longer side (size only downscales; "
            "without it the video has the photo's resolution)"
        )
    return size


# ---------------------------------------------------------------------- motion curves


def blink_curve(n_frames: int, *, fps: float, seed: int = 0) -> np.ndarray:
    """Eyelid closure per frame in [0, 1] (1 = closed), seeded: the blinks of
    :func:`talkinghead.models.blendshape_bridge.procedural_blinks` (one generator for the
    photo, person, 3D and blendshape outputs).

    Returns
    -------
    ndarray, shape (n_frames,), float32
    """
    from ..models.blendshape_bridge import procedural_blinks

    return np.ascontiguousarray(procedural_blinks(int(n_frames), fps, int(seed))[:, 0])


# ---------------------------------------------------------------------- animator


def _rot_yx(yaw: float, pitch: float) -> np.ndarray:
    """Camera-frame (x right, y down, z into the screen) ``Ry(yaw) @ Rx(pitch)`` (3, 3)."""
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    return ry @ np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])


def _face_depth(interocular: float) -> np.ndarray:
    """Depth (73,) of the 68 points + :data:`FOREHEAD` in pixels, relative to the eyes.

    From the canonical Face Mesh (:func:`~talkinghead.face.tracking.canonical_mesh`; z
    into the screen), scaled so that its eye-centre distance is ``interocular``; 0 at the
    eye midpoint (the nose tip is about -0.6 x ``interocular``: toward the camera).
    """
    from ..face.landmarks68 import eye_centres_68, mesh_to_68
    from ..face.tracking import canonical_mesh

    canon = canonical_mesh()
    c68 = mesh_to_68(canon)
    eyes = eye_centres_68(c68[:, :2])
    scale = float(interocular) / float(np.linalg.norm(eyes[1] - eyes[0]))
    z = np.concatenate([c68[:, 2], canon[list(FOREHEAD), 2]])
    return (z - c68[36:48, 2].mean()) * scale


#: The mouth interiors of :class:`PhotoAnimator` (``mouth=``).
MOUTHS = ("procedural", "band", "learned", "exemplar")


class PhotoAnimator:
    """Warps one photo face frame by frame (see the module docstring).

    Parameters
    ----------
    face : PhotoFace
    ring_scale : float
        Size of the static ring relative to the face's half extent.
    mouth : {"procedural", "band", "learned", "exemplar"}
        ``"learned"``: the mouth region is generated by the learned mouth
        (:class:`~talkinghead.models.mouth_generator.MouthGenerator`, ``mouth_model``: one,
        a checkpoint folder, or None for :data:`MOUTH_GENERATOR_DIR`) from the photo's own
        mouth crop and the target lips, inside the inner lips only (``mouth_region=
        "opening"``, the default: the measured and shipped variant, docs/photo.md) or over
        the whole mouth region (``"region"``). On a large face (a mouth crop of more than
        1.3 x 96 px in the work image) the detail net ``mouth_detail`` sharpens the 96 px
        result to up to 192 and then 384 px (:func:`~talkinghead.models.mouth_detail.
        paste_mouth_detailed`): None for :data:`MOUTH_DETAIL_DIR` when shipped, a
        :class:`~talkinghead.models.mouth_detail.MouthDetail` or its folder, False for the
        96 px path alone. Otherwise the mouth
        interior when the lips open: teeth rows, tongue and cavity coloured from the photo
        (:func:`talkinghead.render.mouth.paint_mouth`), or the earlier flat band
        (:func:`~talkinghead.render.mouth.paint_band`, kept for comparisons), or
        ``"exemplar"``: the interior copied from real mouths
        (:class:`~talkinghead.render.mouth_exemplar.ExemplarMouth`; ``mouth_model``: a
        :class:`~talkinghead.render.mouth_exemplar.MouthBank`, its folder, or None for the
        shipped :data:`~talkinghead.render.mouth_exemplar.MOUTH_BANK_DIR`).
    """

    def __init__(
        self,
        face: PhotoFace,
        *,
        ring_scale: float = 1.55,
        mouth: str = "procedural",
        mouth_model=None,
        mouth_region: str = "opening",
        mouth_detail=None,
    ) -> None:
        from ..face.warp import delaunay

        if mouth not in MOUTHS:
            raise InvalidArgumentError(f"mouth={mouth!r} must be one of {', '.join(MOUTHS)}")
        self.mouth = mouth
        self.mouth_model = None
        #: "region" (the whole generated mouth region) or "opening" (inside the inner lips)
        if mouth_region not in ("region", "opening"):
            raise InvalidArgumentError(
                f"mouth_region={mouth_region!r} must be 'region' or 'opening'"
            )
        self.mouth_region = mouth_region
        self.mouth_detail = None
        if mouth == "learned":
            self.mouth_model = load_mouth_generator(mouth_model)
            self.mouth_detail = load_mouth_detail(mouth_detail)

        self.face = face
        h, w = face.image.shape[:2]
        self.shape = (h, w)
        lm = np.asarray(face.landmarks, dtype=np.float64)
        pts = np.concatenate([lm, face.forehead])
        lo, hi = pts.min(0), pts.max(0)
        c, r = (lo + hi) / 2, (hi - lo) / 2
        c = c + np.array([0.0, 0.1 * r[1]])  # reach further down (neck) than up
        r = r * np.array([ring_scale, ring_scale * 1.05])
        a = np.linspace(0, 2 * np.pi, N_RING, endpoint=False)
        self.ring = c + r * np.stack([np.cos(a), np.sin(a)], axis=1)
        self.src = np.concatenate([pts, self.ring])  # (68 + 5 + N_RING, 2)
        self.n_moving = len(pts)
        # topology: inner lips pulled apart so that the mouth gets its own triangles
        topo = self.src.copy()
        for up, uo in zip(_UPPER_INNER, _UPPER_OUTER, strict=True):
            topo[up] = lm[up] + 0.4 * (lm[uo] - lm[up])
        for lo_, lo_o in zip(_LOWER_INNER, _LOWER_OUTER, strict=True):
            topo[lo_] = lm[lo_] + 0.4 * (lm[lo_o] - lm[lo_])
        self.triangles = delaunay(topo)
        x0, y0 = np.floor(self.ring.min(0)).astype(int)
        x1, y1 = np.ceil(self.ring.max(0)).astype(int) + 1
        self.box = (max(0, x0), max(0, y0), min(w, x1), min(h, y1))
        self.photo_gap = float(np.linalg.norm(lm[62] - lm[66]))
        self.pivot = lm[8] + 0.3 * (lm[8] - lm[27])  # neck, below the chin
        self.depth = _face_depth(face.interocular)  # (73,) px into the screen
        self.eye_mid = lm[36:48].mean(axis=0)
        self._setup_work_crop()
        from .mouth import MouthPalette

        self.palette = MouthPalette.from_photo(self._work, self._to_work(lm), grey=face.grey)
        #: the exemplar mouth (``mouth="exemplar"``): real mouths of the bank ``mouth_model``
        self.exemplar = None
        if mouth == "exemplar":
            from .mouth_exemplar import ExemplarMouth, load_mouth_bank

            self.exemplar = ExemplarMouth(load_mouth_bank(mouth_model), self.palette.lip,
                                          grey=face.grey)  # fmt: skip
        if self.mouth_model is not None:
            from ..models.mouth_detail import native_crop
            from ..models.mouth_generator import reference_crop

            # with the detail net: area-downsampled, as in the detail net's training
            crop = reference_crop if self.mouth_detail is None else native_crop
            self._mouth_ref = crop(self._work, self._to_work(lm), self.mouth_model.config.size)
            self._mouth_refs: dict[int, np.ndarray] = {}
            #: a guided generator's guide: the procedural interior at the target lips
            self._mouth_guide = None
            if self.mouth_model.config.guide:
                from ..models.mouth_generator import crop_points, mouth_crop_matrix

                lw = self._to_work(lm)
                S = self.mouth_model.config.size
                ref_pts = crop_points(mouth_crop_matrix(lw, S), lw)
                self._mouth_guide = guide_function(self._mouth_ref, ref_pts, grey=face.grey)
        #: the warp's maps are evaluated on every ``map_step``-th pixel (large faces)
        self.map_step = max(1, int(self.face.interocular * self.work_scale // MAP_IOD))

    def _setup_work_crop(self) -> None:
        """The face crop processed at :attr:`work_scale` (1 unless the face is small).

        ``work_scale = max(1, WORK_IOD / interocular)``. At 1 the photo itself is warped
        inside :attr:`box` (the rest is copied). Above 1 the crop :attr:`crop` (the ring's
        box plus a margin of 15 % of its size, in photo pixels) is upscaled, warped and
        painted there, resized back and pasted with a mask that fades from 1 inside the
        static ring to 0 on it (outside the ring the warp is the identity: those pixels
        stay the photo's exactly).
        """
        import cv2

        h, w = self.shape
        s = max(1.0, WORK_IOD / max(float(self.face.interocular), 1e-6))
        self.work_scale = s
        if s == 1.0:
            self.crop = (0, 0, w, h)
            self._work = self.face.image
            self._paste = None
            self._box_w = self.box
            self._src_w = self.src
            return
        x0, y0, x1, y1 = self.box
        pad = int(np.ceil(0.15 * max(x1 - x0, y1 - y0))) + 2
        cx0, cy0, cx1, cy1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
        self.crop = (cx0, cy0, cx1, cy1)
        ww, wh = int(round((cx1 - cx0) * s)), int(round((cy1 - cy0) * s))
        self._sxy = np.array([ww / (cx1 - cx0), wh / (cy1 - cy0)])
        self._work = cv2.resize(self.face.image[cy0:cy1, cx0:cx1], (ww, wh),
                                interpolation=cv2.INTER_CUBIC)  # fmt: skip
        self._src_w = self._to_work(self.src)
        bx0, by0 = np.floor(self._to_work(np.array([[x0, y0]]))[0]).astype(int)
        bx1, by1 = np.ceil(self._to_work(np.array([[x1, y1]]))[0]).astype(int)
        self._box_w = (max(0, bx0), max(0, by0), min(ww, bx1), min(wh, by1))
        # feathered paste: 1 well inside the static ring, 0 on and outside it (where the
        # warp is the identity: those pixels stay the photo's, bit for bit)
        f = max(2.0, 0.03 * float(np.ptp(self.ring[:, 0])))
        m = np.zeros((cy1 - cy0, cx1 - cx0), np.float32)
        ring = np.round((self.ring - [cx0, cy0]) * 16).astype(np.int32)
        cv2.fillPoly(m, [ring], 1.0, lineType=cv2.LINE_AA, shift=4)
        m = cv2.erode(m, np.ones((3, 3), np.uint8), iterations=int(np.ceil(2 * f)))
        m = cv2.GaussianBlur(m, (0, 0), f)
        self._paste = np.clip(m, 0, 1)[..., None]

    def _to_work(self, pts: np.ndarray) -> np.ndarray:
        """Photo pixels -> pixels of the (upscaled) work crop."""
        if self.work_scale == 1.0:
            return pts
        return (np.asarray(pts, dtype=np.float64) - self.crop[:2]) * self._sxy

    def control_points(
        self,
        driving: np.ndarray,
        *,
        blink: float = 0.0,
        head: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> np.ndarray:
        """Output positions of the moving points (73, 2) for one driving frame.

        Parameters
        ----------
        driving : ndarray, shape (68, 2)
            Eye-pinned driving landmarks.
        blink : float in [0, 1]
        head : (roll, dx, dy) or (roll, dx, dy, yaw, pitch)
            Radians, shifts in inter-ocular units. ``yaw`` and ``pitch`` (the tracking
            convention of :func:`~talkinghead.face.tracking.rotation_to_euler`: yaw > 0
            turns the face toward the image's left, pitch > 0 nods down) turn the face
            points in 3D about the eye midpoint, with the depth of the canonical face
            (:func:`_face_depth`), and project them back orthographically: the nose moves
            across the cheeks, the face foreshortens. Roll and the shift follow.
        """
        from ..face.normalize import neutral_face_68

        f = self.face
        d = np.asarray(driving, dtype=np.float64) - neutral_face_68()
        d = np.nan_to_num(d) @ f.similarity.matrix.T
        lm = f.landmarks + d
        if blink > 0:
            b = float(np.clip(blink, 0, 1))
            for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
                target = 0.9 * lm[low] + 0.1 * lm[up]  # the lower lid stays
                lm[up] = lm[up] + b * (target - lm[up])
        pts = np.concatenate([lm, f.forehead])
        if len(head) not in (3, 5):
            raise InvalidArgumentError(f"head={head!r} must be (roll, dx, dy[, yaw, pitch])")
        roll, dx, dy = head[:3]
        if len(head) == 5 and (head[3] or head[4]):
            pts = self._turn(pts, float(head[3]), float(head[4]))
        if roll or dx or dy:
            cr, sr = np.cos(roll), np.sin(roll)
            R = np.array([[cr, -sr], [sr, cr]])
            shift = f.similarity.matrix @ np.array([dx, dy])
            pts = (pts - self.pivot) @ R.T + self.pivot + shift
        return pts

    def head_from_rotation(self, rotation: np.ndarray) -> np.ndarray:
        """Head rotations of an animation -> ``control_points`` head motion (T, 5).

        ``rotation`` (T, 3) are :mod:`talkinghead.face.head3d` rotation vectors (y up, z
        toward the viewer); the result is ``roll, dx, dy, yaw, pitch`` in the camera
        frame (yaw and roll change sign). The shift is the one the eye midpoint gets when
        the head turns about a neck pivot (:attr:`pivot`, one inter-ocular distance
        behind the eyes): a nod moves the face down, a turn moves it sideways.
        """
        from ..face.head3d import rotation_to_euler

        rot = np.asarray(rotation, dtype=np.float64)
        if rot.ndim != 2 or rot.shape[1] != 3:
            raise InvalidArgumentError(f"rotation.shape={rot.shape} must be (T, 3)")
        yaw_h, pitch, roll_h = rotation_to_euler(rot)
        yaw, roll = -yaw_h, -roll_h
        iod = self.face.interocular
        v = np.array([*(self.eye_mid - self.pivot), -iod])  # eye midpoint from the neck
        shift = np.zeros((len(rot), 2))
        for t in range(len(rot)):
            R = _rot_yx(yaw[t], pitch[t])
            shift[t] = (R @ v)[:2] - v[:2]
        d = shift @ np.linalg.inv(self.face.similarity.matrix).T  # px -> inter-ocular units
        return np.column_stack([roll, d, yaw, pitch])

    def _turn(self, pts: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
        """Rotate (73, 2) points by yaw, pitch in 3D about the eye midpoint; project."""
        p3 = np.column_stack([pts - self.eye_mid, self.depth])  # (73, 3)
        return (p3 @ _rot_yx(yaw, pitch).T)[:, :2] + self.eye_mid

    def frame(self, moving: np.ndarray) -> np.ndarray:
        """Render one frame from the output positions of the moving points (73, 2)."""
        import cv2

        from ..face.warp import piecewise_affine_maps

        dst = self._to_work(np.concatenate([moving, self.ring]))
        work = self._work
        mx, my, ids, (x0, y0, x1, y1) = piecewise_affine_maps(
            self._src_w,
            dst,
            self.triangles,
            shape=work.shape[:2],
            box=self._box_w,
            step=self.map_step,
        )
        out = work.copy()
        if x1 > x0 and y1 > y0:
            out[y0:y1, x0:x1] = cv2.remap(
                work, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            s = self.work_scale
            iod, gap = self.face.interocular * s, self.photo_gap * s
            self._mouth(out, dst[:68], iod=iod, photo_gap=gap)
        if self._paste is None:
            return out
        cx0, cy0, cx1, cy1 = self.crop
        back = cv2.resize(out, (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_AREA)
        full = self.face.image.copy()
        region = full[cy0:cy1, cx0:cx1].astype(np.float32)
        blend = region + (back.astype(np.float32) - region) * self._paste
        full[cy0:cy1, cx0:cx1] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
        return full

    def _mouth(self, out: np.ndarray, lm: np.ndarray, *, iod: float, photo_gap: float) -> None:
        """Paint the mouth interior inside the inner lips (in place; pixels of ``out``)."""
        from .mouth import paint_band, paint_mouth

        if self.mouth == "learned":
            from ..models.mouth_detail import paste_mouth_detailed

            paste_mouth_detailed(out, lm, self._mouth_reference, self.mouth_model,
                                 self.mouth_detail, opening_only=self.mouth_region == "opening",
                                 guide=self._mouth_guide)  # fmt: skip
        elif self.mouth == "exemplar":
            self.exemplar.paint(out, lm, iod=iod, photo_gap=photo_gap)
        elif self.mouth == "band":
            paint_band(out, lm, iod=iod, photo_gap=photo_gap, grey=self.face.grey)
        else:
            paint_mouth(out, lm, iod=iod, photo_gap=photo_gap, palette=self.palette)

    def _mouth_reference(self, size: int) -> np.ndarray:
        """The photo's own ``size`` px mouth crop (the learned mouth's reference), cached."""
        if size == self.mouth_model.config.size:
            return self._mouth_ref
        if size not in self._mouth_refs:
            from ..models.mouth_detail import native_crop

            lm = self._to_work(np.asarray(self.face.landmarks, np.float64))
            self._mouth_refs[size] = native_crop(self._work, lm, size)
        return self._mouth_refs[size]


def procedural_guide(
    reference: np.ndarray, ref_lm: np.ndarray, lm_crop: np.ndarray, *, grey: bool | None = None
) -> np.ndarray:
    """The guide of a guided learned mouth: the procedural interior at the target lips.

    Exactly what ``mouth="procedural"`` paints (:func:`~talkinghead.render.mouth.paint_mouth`:
    teeth rows, tongue, cavity, blended in with a strength that grows as the mouth opens
    wider than in the reference), drawn in the ``S`` px mouth crop on mid-grey: its palette
    (:class:`~talkinghead.render.mouth.MouthPalette`) and the "photo's gap" come from the
    ``reference`` crop (S, S, 3 uint8, the photo's own; in training another frame of the clip)
    and its points ``ref_lm`` (68, 2), the teeth from the target points ``lm_crop`` (68, 2),
    both in crop pixels (``S / CROP_IOD`` pixels between the eyes). The same function at
    training and at inference.

    Returns
    -------
    ndarray, shape (3, S, S), float32
        (painted - 128) / 127.5: 0 where nothing is drawn (a mouth not opened further).
    """
    return guide_function(reference, ref_lm, grey=grey)(lm_crop)


def guide_function(reference: np.ndarray, ref_lm: np.ndarray, *, grey: bool | None = None):
    """:func:`procedural_guide` with the reference's palette and gap computed once: a
    function of the target crop points (68, 2) -> (3, S, S) float32."""
    from ..models.mouth_generator import CROP_IOD
    from .mouth import MouthPalette, paint_mouth

    ref = np.asarray(reference)
    S = ref.shape[0]
    if ref.shape != (S, S, 3) or ref.dtype != np.uint8:
        raise InvalidArgumentError(f"reference.shape={ref.shape} must be (S, S, 3) uint8")
    rl = np.asarray(ref_lm, np.float64)
    if rl.shape != (68, 2):
        raise InvalidArgumentError(f"ref_lm.shape={rl.shape} must be (68, 2)")
    if grey is None:
        grey = bool(np.array_equal(ref[..., 0], ref[..., 1])
                    and np.array_equal(ref[..., 1], ref[..., 2]))  # fmt: skip
    palette = MouthPalette.from_photo(ref, rl, grey=grey)
    gap = float(np.linalg.norm(rl[62] - rl[66]))
    iod = S / CROP_IOD

    def guide(lm_crop: np.ndarray) -> np.ndarray:
        canvas = np.full((S, S, 3), 128, np.uint8)
        paint_mouth(canvas, np.asarray(lm_crop, np.float64), iod=iod, photo_gap=gap,
                    palette=palette)  # fmt: skip
        return (canvas.astype(np.float32).transpose(2, 0, 1) - 128.0) / 127.5

    return guide


def load_mouth_detail(model=None):
    """The learned mouth's detail net: ``model`` itself, the checkpoint folder it names,
    None for :data:`MOUTH_DETAIL_DIR` (None when that is not shipped), False for none."""
    from ..models.mouth_detail import MouthDetail

    if model is False:
        return None
    if isinstance(model, MouthDetail):
        return model.eval()
    if model is None:
        if not (MOUTH_DETAIL_DIR / "config.json").is_file():
            return None
        return MouthDetail.from_pretrained(MOUTH_DETAIL_DIR)
    return MouthDetail.from_pretrained(Path(model))


def load_mouth_generator(model=None):
    """A :class:`~talkinghead.models.mouth_generator.MouthGenerator`: ``model`` itself, the
    checkpoint folder it names, or (None) the shipped one, :data:`MOUTH_GENERATOR_DIR`."""
    from ..errors import CheckpointError
    from ..models.mouth_generator import MouthGenerator

    if isinstance(model, MouthGenerator):
        return model.eval()
    d = Path(model) if model is not None else MOUTH_GENERATOR_DIR
    if model is None and not (d / "config.json").is_file():
        raise CheckpointError(
            f"path='{d}' must hold the learned mouth (not shipped in this build: train it with "
            "scripts/train_mouth_generator.py and pass its folder, CLI --mouth-model)"
        )
    return MouthGenerator.from_pretrained(d)


def square_box(lo, hi, shape: tuple[int, int], *, margin: float = 1.2) -> tuple[int, int, int]:
    """Square ``(x0, y0, side)`` of ``margin`` x the larger extent of ``lo..hi`` (px),
    centred on it and moved inside an image of ``shape`` ``(h, w)``."""
    h, w = shape
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    side = int(min(round(margin * float(np.max(hi - lo))), h, w))
    c = (lo + hi) / 2
    x0 = int(np.clip(round(c[0] - side / 2), 0, w - side))
    y0 = int(np.clip(round(c[1] - side / 2), 0, h - side))
    return x0, y0, side


def face_box(face: PhotoFace, *, margin: float = 1.2) -> tuple[int, int, int]:
    """The square the refiner sees: ``margin`` x the extent of the 68 + forehead points."""
    pts = np.concatenate([face.landmarks, face.forehead])
    return square_box(pts.min(0), pts.max(0), face.image.shape[:2], margin=margin)


def _feather(side: int) -> np.ndarray:
    """(side, side, 1) float32 blend mask: 1 inside, fading to 0 over the outer 10 %."""
    r = np.minimum(np.arange(side), np.arange(side)[::-1]) / max(1.0, 0.1 * side)
    m = np.clip(np.minimum(r[:, None], r[None, :]), 0, 1).astype(np.float32)
    return (m * m * (3 - 2 * m))[..., None]


def crop_square(img: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    """The ``box`` square ``(x0, y0, side)`` of ``img`` resized to ``size`` x ``size``."""
    import cv2

    x0, y0, side = box
    c = img[y0 : y0 + side, x0 : x0 + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(c, (size, size), interpolation=interp)


def refine_face(img: np.ndarray, box: tuple[int, int, int], refiner) -> np.ndarray:
    """Pass the ``box`` square of ``img`` through ``refiner`` and paste it back, feathered.

    Parameters
    ----------
    img : ndarray, shape (H, W, 3), uint8 RGB
        Modified in place (and returned).
    box : (x0, y0, side)
    refiner : Refiner
        Its ``config.size`` is the side the square is resized to.
    """
    import cv2

    x0, y0, side = box
    region = img[y0 : y0 + side, x0 : x0 + side]
    out = refiner.refine(crop_square(img, box, refiner.config.size))
    back = cv2.resize(out, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    mask = _feather(side)
    blend = region.astype(np.float32) * (1 - mask) + back * mask
    img[y0 : y0 + side, x0 : x0 + side] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    return img


def animate_photo(
    photo,
    anim,
    *,
    size: int | None = None,
    blink_seed: int | None = 0,
    head_motion: bool = True,
    face_index: int | None = None,
    min_interocular: float = MIN_TRACKABLE_IOD,
    max_yaw: float = 45.0,
    refiner=None,
    mouth: str = "procedural",
    mouth_model=None,
    mouth_region: str = "opening",
    mouth_detail=None,
) -> Iterator[np.ndarray]:
    """Frames of a talking video made from one photo.

    Parameters
    ----------
    photo : str, path, ndarray or PhotoFace
        See :func:`load_photo` (a :class:`PhotoFace` skips detection).
    anim : Animation
        Driving face (``anim.landmarks`` (T, 68, 2) eye-pinned, ``anim.mouth_open`` (T,)).
    size : int, optional
        Downscale: longer side of the output frames (None: the photo's own size, at most
        :data:`MAX_OUTPUT_SIDE`; see :func:`check_output_size`).
    blink_seed : int or None
        Seed of the blink times (and of the head sway); None: no blinks.
    head_motion : bool
        Add the small head motion.
    face_index, min_interocular, max_yaw
        See :func:`find_photo_face`.
    refiner : Refiner, optional
        Pass the face square (:func:`face_box`) of every frame through it (e.g. the general
        refiner, :data:`talkinghead.recipes.yi2020.GENERAL_DIR`); ~15x slower.
    mouth : {"procedural", "band", "learned", "exemplar"}, mouth_model, mouth_region, mouth_detail
        The mouth interior (:class:`PhotoAnimator`).

    Yields
    ------
    ndarray, shape (H, W, 3), uint8 RGB
        ``anim.n_frames`` frames of the photo's size (or ``size``).
    """
    lms = np.asarray(anim.landmarks, dtype=np.float64)
    if lms.ndim != 3 or lms.shape[1:] != (68, 2):
        raise InvalidArgumentError(f"anim.landmarks.shape={lms.shape} must be (T, 68, 2)")
    face = photo if isinstance(photo, PhotoFace) else find_photo_face(
        photo, size=size, face_index=face_index, min_interocular=min_interocular,
        max_yaw=max_yaw,
    )  # fmt: skip
    frames = _frames(
        PhotoAnimator(
            face,
            mouth=mouth,
            mouth_model=mouth_model,
            mouth_region=mouth_region,
            mouth_detail=mouth_detail,
        ),  # fmt: skip
        anim,
        lms,
        blink_seed,
        head_motion,
    )
    if refiner is None:
        return frames
    box = face_box(face)
    return (refine_face(f, box, refiner) for f in frames)


def _frames(animator, anim, lms, blink_seed, head_motion) -> Iterator[np.ndarray]:
    from ..models.expression import driving_landmarks

    T = len(lms)
    fps = float(anim.fps)
    # ``lms`` is ``anim.landmarks``; an animation with its own blinks keeps them
    lms, own_blinks = driving_landmarks(anim, blinks=blink_seed is not None)
    blinks = blink_curve(T, fps=fps, seed=int(blink_seed)) if own_blinks else np.zeros(T)
    rotation = getattr(anim, "rotation", None)
    if head_motion and rotation is None:  # parameters without head motion
        from ..models.expression import upper_face_motion

        seed = 0 if blink_seed is None else int(blink_seed)
        rotation = upper_face_motion(y=None, sr=None, fps=fps, n_frames=T, seed=seed).rotation
    if head_motion:
        head = animator.head_from_rotation(rotation)  # turned in 3D, see control_points
    else:
        head = np.zeros((T, 3))
    for t in range(T):
        moving = animator.control_points(lms[t], blink=float(blinks[t]), head=tuple(head[t]))
        yield animator.frame(moving)
