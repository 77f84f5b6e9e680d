"""Face tracking with mediapipe Face Mesh: 468-point mesh, 68 landmarks, head pose.

mediapipe 0.10.21 ships the Face Mesh model inside its wheel, so tracking runs
offline. Every decoded frame gets one row in every array: frames with no face or
with several faces are *flagged* (``valid=False``), never dropped.

Conventions
-----------
- Coordinates are image pixels of the (possibly downscaled) tracked frames:
  ``x`` to the right, ``y`` down, ``z`` into the screen (mediapipe's depth, scaled
  like ``x``; smaller is closer to the camera).
- Head pose is a rigid fit (Umeyama, with scale) of the frame's mesh to the
  canonical frontal mesh shipped in ``talkinghead/data/face_reference.npz``:
  ``mesh ~ scale * R @ canonical + translation``. ``rotation`` is ``R`` as a
  rotation vector in radians; :func:`talkinghead.face.geometry.rotation_to_euler` gives
  yaw (about the vertical axis, positive when the face turns towards the image's left: the nose
  moves left), pitch (about the horizontal axis, positive nodding down) and roll
  (in the image plane, positive clockwise on screen). These are camera-frame angles:
  against :mod:`talkinghead.face.head3d` (y up, z toward the viewer) yaw and roll
  change sign, pitch does not.
- ``confidence`` in [0, 1]: the legacy Face Mesh API gives no per-face score, so
  it is a proxy: 0 without a face, otherwise the product of the share of mesh
  points inside the image and ``exp(-rms / 0.05)`` of the rigid-fit residual
  (relative to the inter-ocular distance): a face that is half out of frame or
  heavily deformed scores low.
"""

from __future__ import annotations

import os
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import FACE_REFERENCE
from ..errors import DependencyError, InvalidArgumentError, check_positive
from .geometry import matrix_to_rotvec, rotation_to_euler
from .landmarks68 import mesh_to_68

__all__ = [
    "FaceTrack",
    "FaceTracker",
    "track_frames",
    "track_video",
    "canonical_mesh",
    "rigid_fit",
    "fit_head_pose",
    "import_mediapipe",
    "require_tracking",
]

N_MESH = 468
# mediapipe 0.10.21 cannot be a plain dependency: its metadata pins numpy<2 (pip downgrades
# numpy, breaking opencv-python-headless 5) and pulls jax/jaxlib and opencv-contrib-python,
# whose cv2 overwrites opencv-python-headless's. The [tracking] extra brings what it needs
# at run time; mediapipe itself goes in with --no-deps.
_INSTALL_HINT = (
    "face tracking (track, --photo, prepare, personalize) needs mediapipe 0.10.21, installed "
    "without its pinned dependencies: pip install 'talkinghead[tracking]' && "
    "pip install --no-deps mediapipe==0.10.21"
)
#: What ``import mediapipe`` and Face Mesh need at run time (the [tracking] extra + mediapipe).
_TRACKING_MODULES = ("mediapipe", "absl", "attr", "flatbuffers", "google.protobuf", "matplotlib")


def require_tracking() -> None:
    """Fail now, before any work, where face tracking cannot run: ``track``, ``--photo``,
    ``prepare`` and ``personalize`` call this first (``prepare`` would otherwise reject
    every clip in its worker processes, one by one). Looks the modules up without
    importing them (mediapipe's import takes seconds).

    Raises
    ------
    DependencyError
        mediapipe or one of the modules it needs is not installed; the message has the two
        install commands.
    """
    import importlib.util

    missing = []
    for name in _TRACKING_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a missing parent package, or a module without spec
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise DependencyError(f"{_INSTALL_HINT} (not installed: {', '.join(missing)})")


# stable points for the rigid fit: forehead, nose bridge, eye corners, cheeks, not lips/jaw
_RIGID_IDX = np.array(
    [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 70, 300, 105, 334,
     234, 454, 127, 356, 93, 323, 116, 345, 50, 280, 98, 327, 2]
)  # fmt: skip


def import_mediapipe():
    """``import mediapipe``, without the ``matplotlib.pyplot`` import it makes on the way.

    mediapipe's ``__init__`` imports its drawing helpers, which import matplotlib.pyplot:
    about half of mediapipe's import time (0.5-1.6 s of a cold ``--photo``, measured), for
    plotting we never do. While mediapipe imports, ``matplotlib`` and ``matplotlib.pyplot``
    are stand-ins that load the real modules when first used; they are removed right after,
    so any later ``import matplotlib`` gets the real one.

    Raises
    ------
    DependencyError
        mediapipe (or what it needs) is not installed; the message has the install commands.
    """
    import sys

    if "mediapipe" in sys.modules or "matplotlib" in sys.modules:
        stubs = {}
    else:
        stubs = {n: _LazyModule(n) for n in ("matplotlib", "matplotlib.pyplot")}
        stubs["matplotlib"].__path__ = []
        stubs["matplotlib"].pyplot = stubs["matplotlib.pyplot"]
        sys.modules.update(stubs)
    try:
        import mediapipe
    except ImportError as e:
        raise DependencyError(f"{_INSTALL_HINT} ({e})") from e
    finally:
        for name, mod in stubs.items():
            if sys.modules.get(name) is mod:
                del sys.modules[name]
    return mediapipe


class _LazyModule(types.ModuleType):
    """Stand-in for a module: the first attribute read imports the real one."""

    def __getattr__(self, attr):
        import importlib
        import sys

        if sys.modules.get(self.__name__) is self:  # still standing in: nothing to load
            raise AttributeError(attr)
        return getattr(importlib.import_module(self.__name__), attr)


# --------------------------------------------------------------------------- geometry


def rigid_fit(src: np.ndarray, dst: np.ndarray, *, with_scale: bool = True):
    """Least-squares similarity ``dst ~ s R src + t``
    (:func:`talkinghead.face.geometry.similarity_fit`) and its residual.

    Parameters
    ----------
    src, dst : ndarray, shape (N, 3)
    with_scale : bool
        Fit the scale (False: ``s = 1``).

    Returns
    -------
    (s, R (3, 3), t (3,), rms) with ``rms`` the root-mean-square residual.
    """
    from .geometry import similarity_fit

    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    s, R, t = similarity_fit(src, dst, with_scale=with_scale)
    s = float(s)
    res = dst - (s * (R @ src.T).T + t)
    return s, R, t, float(np.sqrt((res**2).sum(axis=1).mean()))


def fit_head_pose(mesh: np.ndarray):
    """The head pose of a Face Mesh: :func:`rigid_fit` of the canonical mesh's stable points
    (forehead, nose bridge, eye corners, cheeks; not lips or jaw) onto ``mesh``.

    Parameters
    ----------
    mesh : ndarray, shape (468, 3)

    Returns
    -------
    (s, R (3, 3), t (3,), rms), as :func:`rigid_fit`.
    """
    return rigid_fit(canonical_mesh()[_RIGID_IDX], np.asarray(mesh)[_RIGID_IDX])


_CANONICAL: np.ndarray | None = None


def canonical_mesh() -> np.ndarray:
    """The canonical frontal Face Mesh (468, 3): mean of aligned tracked real faces.

    Units: inter-ocular distance (outer eye corners 33-263) = 1, centred on the
    mesh mean, x right, y down, z into the screen. Built by
    ``scripts/build_face_reference.py``.
    """
    global _CANONICAL
    if _CANONICAL is None:
        path = FACE_REFERENCE
        with np.load(path) as z:
            _CANONICAL = np.asarray(z["canonical_mesh"], dtype=np.float64)
        _CANONICAL.flags.writeable = False
    return _CANONICAL


# --------------------------------------------------------------------------- track


@dataclass
class FaceTrack:
    """Per-frame face tracking results of one video.

    Attributes
    ----------
    fps : float
    width, height : int
        Size of the tracked frames in pixels.
    times : ndarray, shape (T,)
        Frame times in seconds.
    mesh : ndarray, shape (T, 468, 3), float32
        Face Mesh vertices in pixels (NaN where no face).
    landmarks68 : ndarray, shape (T, 68, 2), float32
        iBUG 68-point landmarks in pixels (NaN where no face).
    rotation : ndarray, shape (T, 3), float32
        Head rotation vector in radians (NaN where no face).
    translation : ndarray, shape (T, 3), float32
        Head translation in pixels (NaN where no face).
    scale : ndarray, shape (T,), float32
        Inter-ocular distance of the fitted canonical face, in pixels.
    confidence : ndarray, shape (T,), float32
        In [0, 1]; see the module docstring.
    n_faces : ndarray, shape (T,), int16
        Faces detected in the frame (0, 1, 2 = "two or more").
    valid : ndarray, shape (T,), bool
        Exactly one face was found.
    source : str
        The tracked file, when known.
    """

    fps: float
    width: int
    height: int
    times: np.ndarray
    mesh: np.ndarray
    landmarks68: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    scale: np.ndarray
    confidence: np.ndarray
    n_faces: np.ndarray
    valid: np.ndarray
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(len(self.valid))

    @property
    def euler(self) -> np.ndarray:
        """(T, 3) yaw, pitch, roll in radians."""
        return np.stack(rotation_to_euler(self.rotation), axis=-1)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the track to ``.npz`` atomically."""
        import json

        from .._util.atomic import save_npz_atomic

        meta = {"source": self.source, **self.meta}
        return save_npz_atomic(
            path,
            fps=np.float64(self.fps),
            width=np.int32(self.width),
            height=np.int32(self.height),
            times=self.times,
            mesh=self.mesh,
            landmarks68=self.landmarks68,
            rotation=self.rotation,
            translation=self.translation,
            scale=self.scale,
            confidence=self.confidence,
            n_faces=self.n_faces,
            valid=self.valid,
            meta=np.array(json.dumps(meta)),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> FaceTrack:
        """Read a track written by :meth:`save`."""
        import json

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
            return cls(
                fps=float(z["fps"]),
                width=int(z["width"]),
                height=int(z["height"]),
                times=z["times"],
                mesh=z["mesh"],
                landmarks68=z["landmarks68"],
                rotation=z["rotation"],
                translation=z["translation"],
                scale=z["scale"],
                confidence=z["confidence"],
                n_faces=z["n_faces"],
                valid=z["valid"],
                source=meta.pop("source", ""),
                meta=meta,
            )


class FaceTracker:
    """A mediapipe Face Mesh tracker for one frame sequence.

    Parameters
    ----------
    static_image_mode : bool
        ``False`` for video (detect once, then track), ``True`` for unrelated photos.
    max_num_faces : int
        2 by default, so that frames with several faces can be flagged.
    min_detection_confidence, min_tracking_confidence : float
    """

    def __init__(
        self,
        *,
        static_image_mode: bool = False,
        max_num_faces: int = 2,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        from .._util.native_logs import StderrFilter

        mp = import_mediapipe()
        # mediapipe's start-up log lines, some printed by its threads after this returns:
        # filtered until the first frame is done (or close)
        self._quiet = StderrFilter().start()
        try:
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=static_image_mode,
                max_num_faces=max_num_faces,
                refine_landmarks=True,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        except BaseException:
            self._quiet.stop()
            raise

    def close(self) -> None:
        self._quiet.stop()
        self._mesh.close()

    def __del__(self) -> None:
        quiet = getattr(self, "_quiet", None)
        if quiet is not None:
            quiet.stop()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def process(self, image: np.ndarray) -> list[np.ndarray]:
        """Faces in one RGB uint8 image (H, W, 3): a list of (468, 3) pixel meshes."""
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise InvalidArgumentError(
                f"image.shape={img.shape}, dtype={img.dtype} must be (H, W, 3) uint8 RGB"
            )
        h, w = img.shape[:2]
        try:
            res = self._mesh.process(np.ascontiguousarray(img))
        finally:
            self._quiet.stop()
        faces = []
        for lms in res.multi_face_landmarks or []:
            a = np.array([(p.x, p.y, p.z) for p in lms.landmark[:N_MESH]], dtype=np.float64)
            a *= (w, h, w)
            faces.append(a)
        return faces


def _largest(faces: list[np.ndarray]) -> np.ndarray:
    areas = [np.ptp(f[:, 0]) * np.ptp(f[:, 1]) for f in faces]
    return faces[int(np.argmax(areas))]


def track_frames(
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    times: Iterable[float] | None = None,
    static_image_mode: bool = False,
    progress: bool | None = False,
    total: int | None = None,
) -> FaceTrack:
    """Track the face in a sequence of RGB frames.

    Parameters
    ----------
    frames : iterable of ndarray, shape (H, W, 3), uint8 RGB
    fps : float
    times : iterable of float, optional
        Frame times (default ``index / fps``).
    static_image_mode : bool
        Detect in every frame independently (for unrelated images).

    Returns
    -------
    FaceTrack
        ``T`` rows, one per frame.
    """
    from .._util.progress import progress as _progress

    fps = check_positive("fps", fps)
    meshes, rots, trans, scales, confs, nf = [], [], [], [], [], []
    width = height = 0
    with FaceTracker(static_image_mode=static_image_mode) as tracker:
        for img in _progress(frames, total=total, desc="track", unit="frame", enabled=progress):
            height, width = np.asarray(img).shape[:2]
            faces = tracker.process(img)
            nf.append(min(len(faces), 2))
            if not faces:
                meshes.append(np.full((N_MESH, 3), np.nan))
                rots.append(np.full(3, np.nan))
                trans.append(np.full(3, np.nan))
                scales.append(np.nan)
                confs.append(0.0)
                continue
            m = _largest(faces)
            s, R, t, rms = fit_head_pose(m)
            inside = np.mean((m[:, 0] >= 0) & (m[:, 0] < width) & (m[:, 1] >= 0)
                             & (m[:, 1] < height))  # fmt: skip
            confs.append(float(inside * np.exp(-(rms / max(s, 1e-9)) / 0.05)))
            meshes.append(m)
            rots.append(matrix_to_rotvec(R))
            trans.append(t)
            scales.append(s)
    T = len(nf)
    if T == 0:
        raise InvalidArgumentError("frames=[] must hold at least one frame")
    mesh = np.asarray(meshes, dtype=np.float32).reshape(T, N_MESH, 3)
    n_faces = np.asarray(nf, dtype=np.int16)
    t_arr = np.asarray(list(times), dtype=np.float64) if times is not None else None
    if t_arr is None or len(t_arr) != T:
        t_arr = np.arange(T) / fps
    return FaceTrack(
        fps=fps,
        width=int(width),
        height=int(height),
        times=t_arr,
        mesh=mesh,
        landmarks68=mesh_to_68(mesh)[..., :2].astype(np.float32),
        rotation=np.asarray(rots, dtype=np.float32).reshape(T, 3),
        translation=np.asarray(trans, dtype=np.float32).reshape(T, 3),
        scale=np.asarray(scales, dtype=np.float32),
        confidence=np.asarray(confs, dtype=np.float32),
        n_faces=n_faces,
        valid=n_faces == 1,
    )


def track_video(
    path: str | os.PathLike,
    *,
    size: int | tuple[int, int] | None = None,
    max_frames: int | None = None,
    progress: bool | None = None,
) -> FaceTrack:
    """Track the face in every frame of a video file.

    Parameters
    ----------
    path : str or path
        Any video file PyAV decodes (mp4, mpg, avi, flv, mov, ...).
    size : int or (width, height), optional
        Downscale frames (longer side = ``size``) before tracking; coordinates are
        then in the downscaled pixels (``FaceTrack.width/height`` say which).
    max_frames : int, optional
        Track only the first frames.

    Returns
    -------
    FaceTrack
        One row per decoded frame (flagged, never dropped).
    """
    import itertools

    from ..video.io import iter_frames, probe_video

    info = probe_video(path)
    if max_frames is not None and int(max_frames) <= 0:
        raise InvalidArgumentError(f"max_frames={max_frames!r} must be a positive integer")
    times: list[float] = []

    def frames():
        for fr in itertools.islice(iter_frames(path, size=size), max_frames):
            times.append(fr.time)
            yield fr.image

    total = info.n_frames if max_frames is None else min(info.n_frames, int(max_frames))
    track = track_frames(frames(), fps=info.fps, progress=progress, total=total)
    track.times = np.asarray(times, dtype=np.float64)
    track.source = str(path)
    return track
