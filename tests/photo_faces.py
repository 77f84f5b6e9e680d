"""A real photo face with its mouth opened, shared by the photo-mouth tests.

``real_photo_face(path, size=..., scale=...)`` finds the face in the first frame of a real
video (``talkinghead.render.photo.find_photo_face``, its warnings silenced);
``pull_lips_apart(lm, interocular, gap)`` moves the inner lips (61-63 / 65-67) ``gap`` eye
distances apart about their mean height.
"""

from __future__ import annotations

import warnings

import numpy as np


def real_photo_face(path, *, size: int | None = None, scale: float = 1.0):
    """The :class:`~talkinghead.render.photo.PhotoFace` of the first frame of ``path``,
    read at ``size`` px (None: as stored) and then resized by ``scale`` (bicubic)."""
    from talkinghead.render.photo import find_photo_face
    from talkinghead.video.io import read_video

    frame = read_video(path, max_frames=1, size=size).frames[0]
    if scale != 1.0:
        import cv2

        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_photo_face(frame)


def pull_lips_apart(lm: np.ndarray, interocular: float, gap: float) -> np.ndarray:
    """A copy of the 68 points ``lm`` (68, 2) with the inner lips ``gap`` x ``interocular``
    apart, centred on their mean height."""
    t = np.asarray(lm, np.float64).copy()
    c = t[[61, 62, 63, 65, 66, 67], 1].mean()
    t[[61, 62, 63], 1] = c - gap * interocular / 2
    t[[65, 66, 67], 1] = c + gap * interocular / 2
    return t
