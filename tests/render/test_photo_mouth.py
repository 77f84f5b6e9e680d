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


def test_guide_is_the_procedural_interior_at_the_target_lips(face):
    """``procedural_guide`` (the guided learned mouth's extra input) is what
    ``paint_mouth`` paints at the target lips in the 96 px crop (on mid-grey), coloured
    from the reference crop; nothing where the mouth is not opened further; and the
    PhotoAnimator of a guided model feeds it exactly that, from the photo's own crop."""
    import torch

    from talkinghead.models.mouth_generator import (
        CROP_IOD,
        MouthGenerator,
        MouthGeneratorConfig,
        crop_points,
        mouth_crop_matrix,
        reference_crop,
        shape_maps,
    )
    from talkinghead.render.mouth import paint_mouth
    from talkinghead.render.photo import procedural_guide

    lm = np.asarray(face.landmarks, np.float64)
    M = mouth_crop_matrix(lm, 96)
    ref, ref_pts = reference_crop(face.image, lm, 96), crop_points(M, lm)
    assert not np.abs(procedural_guide(ref, ref_pts, ref_pts)).any()  # not opened further
    an = PhotoAnimator(face)
    t = an.control_points(_open(0.3))[:68]
    tp = crop_points(mouth_crop_matrix(t, 96), t)
    g = procedural_guide(ref, ref_pts, tp)
    assert g.shape == (3, 96, 96) and g.dtype == np.float32
    canvas = np.full((96, 96, 3), 128, np.uint8)
    pal = MouthPalette.from_photo(ref, ref_pts)
    gap = float(np.linalg.norm(ref_pts[62] - ref_pts[66]))
    paint_mouth(canvas, tp, iod=96 / CROP_IOD, photo_gap=gap, palette=pal)
    np.testing.assert_array_equal(
        np.round(g * 127.5 + 128).astype(np.uint8), canvas.transpose(2, 0, 1)
    )
    # drawn inside the target's inner lips only, with bright teeth under the upper lip
    inner = shape_maps(tp, 96)[0]
    import cv2

    grown = cv2.dilate(inner, np.ones((3, 3), np.uint8))
    drawn = np.abs(g).max(0) > 1 / 127.5
    assert drawn.sum() > 100 and not (drawn & (grown == 0)).any()
    lum = (g * 127.5 + 128).transpose(1, 2, 0) @ [0.299, 0.587, 0.114]
    x = int(round(tp[[62, 66], 0].mean()))
    col = lum[int(np.ceil(tp[62, 1])) : int(tp[66, 1]), x]
    assert col[: len(col) // 4].max() > col[len(col) // 3 : 2 * len(col) // 3].min() + 60
    # the animator's guide is this function of the photo's own crop
    torch.manual_seed(0)
    model = MouthGenerator(MouthGeneratorConfig(size=96, base_channels=4, guide=True)).eval()
    ag = PhotoAnimator(face, mouth="learned", mouth_model=model, mouth_detail=False)
    np.testing.assert_array_equal(ag._mouth_guide(tp), procedural_guide(ag._mouth_ref, ref_pts, tp))
    frame = ag.frame(an.control_points(_open(0.3)))
    plain = an.frame(an.control_points(_open(0.3)))
    diff = np.abs(frame.astype(int) - plain).max(-1) > 8  # learned vs procedural: mouth only
    ys, xs = np.nonzero(diff)
    lo, hi = t[60:68].min(0), t[60:68].max(0)
    e = 0.15 * face.interocular  # the inner lips grown by 0.05 eye distances + the feather
    assert diff.any() and xs.min() >= lo[0] - e and xs.max() <= hi[0] + e
    assert ys.min() >= lo[1] - e and ys.max() <= hi[1] + e
