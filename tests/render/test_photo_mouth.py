"""The photo path's procedural mouth interior, on a real frame (video-retalking 2)."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.face.normalize import neutral_face_68
from talkinghead.render.mouth import MouthPalette
from talkinghead.render.photo import PhotoAnimator, find_photo_face

CLIP = "OpenTalker__video-retalking/examples/face/2.mp4"


@pytest.fixture(scope="module")
def face(shared_data):
    from talkinghead.video.io import read_video

    return find_photo_face(read_video(shared_data / CLIP, max_frames=1).frames[0])


def _open(opening: float) -> np.ndarray:
    lm = neutral_face_68().copy()
    lm[[57, 58, 56, 65, 66, 67, 7, 8, 9], 1] += opening
    lm[[55, 59, 6, 10, 5, 11], 1] += 0.6 * opening
    return lm


def _column(an, img, moving):
    """RGB down the middle of the opened mouth, from the upper to the lower inner lip."""
    x = int(round(moving[[62, 66], 0].mean()))
    y0, y1 = int(round(moving[62, 1])), int(round(moving[66, 1]))
    return img[y0 + 1 : y1, x - 1 : x + 2].astype(float).mean(1)


def test_teeth_tongue_and_cavity_when_the_mouth_opens(face):
    an = PhotoAnimator(face)
    assert an.mouth == "procedural"
    closed = an.frame(an.control_points(neutral_face_68()))
    moving = an.control_points(_open(0.3))
    col = _column(an, an.frame(moving), moving)
    n = len(col)
    assert n > 0.15 * face.interocular
    lum = col @ [0.299, 0.587, 0.114]
    top, mid = lum[: n // 4], lum[n // 4 : 3 * n // 4]
    # upper teeth: brighter than the lips, nearly grey, under the upper lip; darker behind
    assert top.max() > an.palette.lip @ [0.299, 0.587, 0.114] + 40
    assert (col[: n // 4].max(1) - col[: n // 4].min(1)).min() < 60
    assert mid.min() < top.max() - 90
    # the cavity and tongue take the photo's lip colour (red dominates), darkened
    lip = an.palette.lip
    assert lip[0] > lip[2] and np.all(col[n // 3 : 2 * n // 3, 0] >= col[n // 3 : 2 * n // 3, 2])
    # closed (the photo's own opening): the photo's mouth is kept
    x0, y0 = face.landmarks[48:68].min(0).astype(int)
    x1, y1 = face.landmarks[48:68].max(0).astype(int)
    d = np.abs(closed[y0:y1, x0:x1].astype(int) - face.image[y0:y1, x0:x1]).mean()
    assert d < 2


def test_palette_follows_the_photo(face):
    """Teeth at the photo's exposure: a brighter photo gets brighter teeth; grey stays grey."""
    p = MouthPalette.from_photo(face.image, face.landmarks)  # a dim photo
    bright = np.clip(face.image * 1.6, 0, 255).astype(np.uint8)
    b = MouthPalette.from_photo(bright, face.landmarks)
    assert p.teeth.mean() < 0.85 * b.teeth.mean() and np.all(p.lip < b.lip)
    grey = np.repeat(face.image.mean(2, keepdims=True).astype(np.uint8), 3, axis=2)
    g = find_photo_face(grey)
    an = PhotoAnimator(g)
    img = an.frame(an.control_points(_open(0.3)))
    assert np.array_equal(img[..., 0], img[..., 1])


def test_band_is_kept_for_comparison(face):
    from talkinghead.errors import InvalidArgumentError

    band = PhotoAnimator(face, mouth="band")
    proc = PhotoAnimator(face)
    moving = band.control_points(_open(0.3))
    a, b = band.frame(moving), proc.frame(moving)
    assert np.abs(a.astype(int) - b).max() > 50  # different interiors
    outside = np.ones(a.shape[:2], bool)
    x0, y0 = np.floor(moving[60:68].min(0)).astype(int) - 10
    x1, y1 = np.ceil(moving[60:68].max(0)).astype(int) + 10
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(a[outside], b[outside])  # only the mouth differs
    with pytest.raises(InvalidArgumentError, match="mouth="):
        PhotoAnimator(face, mouth="gan")
