"""Render AAM face codes (Sakurai et al. 2018's ``target="aam"`` models) to frames / MP4.

``code_frames`` pastes each code's face (:meth:`talkinghead.face.aam.AAM.render`) into
a background frame; ``render_code_video`` writes them with audio.
:func:`talkinghead.recipes.sakurai2018.load_aam_model` reads a checkpoint trained with
``talkinghead train sakurai2018 ... --target aam``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["code_frames", "render_code_video"]


def _placement(aam, background: np.ndarray, background_landmarks):
    from ..face.normalize import DEFAULT_EYES, SimilarityTransform

    if background_landmarks is not None:
        return aam.similarity(background_landmarks)
    h, w = background.shape[:2]
    d = 0.25 * w
    eyes = np.array([[w / 2 - d / 2, 0.42 * h], [w / 2 + d / 2, 0.42 * h]])
    return SimilarityTransform.from_two_points(np.asarray(DEFAULT_EYES), eyes)


def code_frames(
    aam, codes, background: np.ndarray, *, background_landmarks=None, similarity=None
) -> Iterator[np.ndarray]:
    """Frames of ``codes`` rendered onto ``background`` (one at a time).

    Parameters
    ----------
    aam : talkinghead.face.aam.AAM
    codes : array_like, shape (T, aam.n_code)
    background : np.ndarray, uint8, shape (H, W, 3)
    background_landmarks : np.ndarray, shape (68, 2), optional
        Face landmarks of the background (pixels): the face is placed on them.
    similarity : SimilarityTransform, optional
        Model units -> pixels; wins over ``background_landmarks``. Default: the face
        centred, eye distance a quarter of the width.

    Yields
    ------
    np.ndarray, uint8, shape (H, W, 3)
    """
    c = np.asarray(codes, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != aam.n_code:
        raise InvalidArgumentError(f"codes.shape={c.shape} must be (T, {aam.n_code})")
    bg = np.asarray(background)
    if bg.ndim != 3 or bg.shape[2] != 3 or bg.dtype != np.uint8:
        raise InvalidArgumentError(
            f"background.shape={bg.shape}, dtype={bg.dtype} must be (H, W, 3) uint8 RGB"
        )
    sim = similarity if similarity is not None else _placement(aam, bg, background_landmarks)
    for code in c:
        yield aam.render(code, background_frame=bg, similarity=sim)


def render_code_video(
    path: str | os.PathLike,
    aam,
    codes,
    background: np.ndarray,
    *,
    fps: float,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    background_landmarks=None,
) -> Path:
    """Write ``codes`` rendered onto ``background`` as an H.264 MP4 (with audio).

    Parameters
    ----------
    path : str or PathLike
        Output ``.mp4``.
    aam, codes, background, background_landmarks
        See :func:`code_frames`.
    fps : float
    audio : np.ndarray, shape (n,), optional
    sr : int, optional
        Sample rate of ``audio``.

    Returns
    -------
    Path of the written file.
    """
    from ..video.io import write_video

    frames = code_frames(aam, codes, background, background_landmarks=background_landmarks)
    return write_video(path, frames, fps=fps, audio=audio, sr=sr)
