"""Draw 68-point faces as clean line sketches, and write them to video.

Coordinates: landmarks are ``(x, y)`` with ``y`` pointing down, in any unit;
:func:`fit_to_canvas` maps a whole sequence into pixels with *one* similarity
transform, so that head motion and mouth motion stay visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "SketchStyle",
    "CanvasTransform",
    "fit_to_canvas",
    "draw_sketch",
    "iter_sketch_frames",
    "render_landmarks_video",
    "polyline_groups",
]

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_SCALE = 1 << _SHIFT


@dataclass(frozen=True)
class SketchStyle:
    """Colours (RGB) and line widths of the sketch."""

    background: tuple[int, int, int] = (246, 244, 240)
    face: tuple[int, int, int] = (40, 40, 48)
    lips: tuple[int, int, int] = (176, 48, 60)
    mouth_inside: tuple[int, int, int] = (70, 20, 28)
    eyes: tuple[int, int, int] = (30, 60, 120)
    thickness: int = 2
    label_color: tuple[int, int, int] = (90, 90, 90)


@dataclass(frozen=True)
class CanvasTransform:
    """``pixels = points * scale + offset`` (one transform for a whole sequence)."""

    scale: float
    offset: tuple[float, float]

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map ``points`` (..., 2) into canvas pixels (..., 2)."""
        return np.asarray(points, dtype=np.float64) * self.scale + np.asarray(self.offset)


def _check_landmarks(landmarks: np.ndarray, name: str = "landmarks") -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim == 2:
        lm = lm[None]
    if lm.ndim != 3 or lm.shape[1:] != (68, 2):
        raise InvalidArgumentError(
            f"{name}.shape={tuple(np.shape(landmarks))} must be (T, 68, 2) or (68, 2)"
        )
    return lm


def fit_to_canvas(
    landmarks: np.ndarray, *, size: int | tuple[int, int] = 256, margin: float = 0.12
) -> CanvasTransform:
    """One similarity transform that fits every frame of ``landmarks`` into the canvas.

    Parameters
    ----------
    landmarks : ndarray, shape (T, 68, 2) or (68, 2)
        Face points in any unit (frames with NaN are ignored).
    size : int or (width, height)
        Canvas size in pixels.
    margin : float
        Free border as a fraction of the canvas side.
    """
    lm = _check_landmarks(landmarks)
    w, h = (size, size) if isinstance(size, int) else size
    finite = lm[np.isfinite(lm).all(axis=(1, 2))]
    if len(finite) == 0:
        return CanvasTransform(scale=1.0, offset=(w / 2, h / 2))
    lo = finite.reshape(-1, 2).min(axis=0)
    hi = finite.reshape(-1, 2).max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    scale = float(min(w * (1 - 2 * margin) / span[0], h * (1 - 2 * margin) / span[1]))
    centre = (lo + hi) / 2
    return CanvasTransform(
        scale=scale, offset=(w / 2 - centre[0] * scale, h / 2 - centre[1] * scale)
    )


def polyline_groups():
    """(indices, closed, colour attribute) for each polyline of the 68-point face."""
    from ..face import landmarks68 as L

    def colour(idx):
        if idx[0] in L.MOUTH:
            return "lips"
        if idx[0] in L.RIGHT_EYE or idx[0] in L.LEFT_EYE:
            return "eyes"
        return "face"

    return [(idx, closed, colour(idx)) for idx, closed in L.POLYLINES]


def draw_sketch(
    points: np.ndarray,
    *,
    canvas: np.ndarray | None = None,
    size: int | tuple[int, int] = 256,
    style: SketchStyle | None = None,
    label: str | None = None,
) -> np.ndarray:
    """Draw one 68-point face, already in canvas pixels, as a line sketch.

    Parameters
    ----------
    points : ndarray, shape (68, 2)
        Pixel coordinates (use :func:`fit_to_canvas` to get them).
    canvas : ndarray, shape (H, W, 3), uint8, optional
        Image to draw on (modified in place); a fresh background otherwise.
    size : int or (width, height)
        Size of the fresh canvas.
    label : str, optional
        Text written in the top-left corner.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8, RGB
    """
    import cv2

    style = style or SketchStyle()
    if canvas is None:
        w, h = (size, size) if isinstance(size, int) else size
        canvas = np.empty((h, w, 3), dtype=np.uint8)
        canvas[:] = style.background
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape != (68, 2):
        raise InvalidArgumentError(f"points.shape={pts.shape} must be (68, 2)")
    if np.isfinite(pts).all():
        ipts = np.round(pts * _SCALE).astype(np.int32)
        th = max(1, int(style.thickness))
        from ..face import landmarks68 as L

        inner = ipts[list(L.INNER_LIPS)]
        cv2.fillPoly(canvas, [inner], style.mouth_inside, cv2.LINE_AA, _SHIFT)
        for idx, closed, colour in polyline_groups():
            cv2.polylines(
                canvas, [ipts[list(idx)]], closed, getattr(style, colour), th, cv2.LINE_AA, _SHIFT
            )
    if label:
        cv2.putText(
            canvas, label, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, style.label_color, 1, cv2.LINE_AA
        )
    return canvas


def iter_sketch_frames(
    landmarks: np.ndarray,
    *,
    size: int = 256,
    reference: np.ndarray | None = None,
    labels: tuple[str, str] = ("real", "predicted"),
    style: SketchStyle | None = None,
) -> Iterator[np.ndarray]:
    """Yield RGB frames of the sketch, or side by side (``reference`` left, ``landmarks`` right).

    Parameters
    ----------
    landmarks : ndarray, shape (T, 68, 2)
    reference : ndarray, shape (T2, 68, 2), optional
        Real landmarks shown on the left; the video has ``max(T, T2)`` frames, the
        shorter sequence holding its last frame.
    """
    lm = _check_landmarks(landmarks)
    if reference is None:
        tf = fit_to_canvas(lm, size=size)
        px = tf.apply(lm)
        for t in range(len(px)):
            yield draw_sketch(px[t], size=size, style=style)
        return
    ref = _check_landmarks(reference, "reference")
    tf_r, tf_p = fit_to_canvas(ref, size=size), fit_to_canvas(lm, size=size)
    px_r, px_p = tf_r.apply(ref), tf_p.apply(lm)
    n = max(len(px_r), len(px_p))
    for t in range(n):
        left = draw_sketch(px_r[min(t, len(px_r) - 1)], size=size, style=style, label=labels[0])
        right = draw_sketch(px_p[min(t, len(px_p) - 1)], size=size, style=style, label=labels[1])
        frame = np.concatenate([left, right], axis=1)
        frame[:, size - 1 : size + 1] = 200
        yield frame


def render_landmarks_video(
    path,
    landmarks: np.ndarray,
    *,
    fps: float,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    size: int = 256,
    reference: np.ndarray | None = None,
    progress: bool | None = None,
):
    """Write the sketch of ``landmarks`` (T, 68, 2) to an MP4 with ``audio`` muxed in.

    ``reference`` (T, 68, 2) adds a side-by-side view (real left, predicted right).
    The file is written atomically. Returns the output path.
    """
    from .._util.progress import progress as _progress
    from ..video.io import write_video

    lm = _check_landmarks(landmarks)
    n = len(lm) if reference is None else max(len(lm), len(_check_landmarks(reference)))
    frames = _progress(
        iter_sketch_frames(lm, size=size, reference=reference),
        total=n,
        desc="render",
        unit="frame",
        enabled=progress,
    )
    return write_video(path, frames, fps=fps, audio=audio, sr=sr)
