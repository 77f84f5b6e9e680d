import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face import landmarks68 as L
from talkinghead.models.phonetic import DEFAULT_NEUTRAL_68
from talkinghead.render.sketch import draw_sketch, fit_to_canvas, iter_sketch_frames


def _neutral():
    return np.asarray(DEFAULT_NEUTRAL_68, dtype=np.float64)


def _open_mouth(lm, amount):
    lm = lm.copy()
    lm[[65, 66, 67, 55, 56, 57, 58, 59]] += [0.0, amount]
    return lm


def test_fit_to_canvas_keeps_every_frame_inside():
    base = _neutral()
    seq = np.stack([base + [0.3 * t, 0.1 * t] for t in range(10)])  # a moving head
    tf = fit_to_canvas(seq, size=(320, 200), margin=0.1)
    px = tf.apply(seq)
    assert px[..., 0].min() >= 320 * 0.1 - 1e-6 and px[..., 0].max() <= 320 * 0.9 + 1e-6
    assert px[..., 1].min() >= 200 * 0.1 - 1e-6 and px[..., 1].max() <= 200 * 0.9 + 1e-6
    # one transform for the sequence: the motion is kept, not re-centred per frame
    assert np.ptp(px[:, 30, 0]) > 50


def test_sketch_draws_lines_where_the_points_are():
    lm = _neutral()
    px = fit_to_canvas(lm, size=256).apply(lm)
    img = draw_sketch(px, size=256)
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    bg = np.array([246, 244, 240])
    drawn = np.any(img != bg, axis=-1)
    # every landmark has a drawn pixel within 2 px
    for x, y in px:
        xi, yi = int(round(x)), int(round(y))
        assert drawn[yi - 2 : yi + 3, xi - 2 : xi + 3].any()
    # and far from the face (corners) nothing is drawn
    assert not drawn[:10, :10].any() and not drawn[-10:, -10:].any()


def test_open_mouth_is_filled_dark():
    lm0 = _neutral()
    lm1 = _open_mouth(lm0, 0.25)
    tf = fit_to_canvas(np.stack([lm0, lm1]), size=256)
    closed = draw_sketch(tf.apply(lm0), size=256)
    opened = draw_sketch(tf.apply(lm1), size=256)
    mouth_px = tf.apply(lm1)[list(L.INNER_LIPS)]
    cx, cy = mouth_px.mean(axis=0).round().astype(int)
    assert opened[cy, cx].sum() < 250  # dark cavity
    dark = lambda im: int((im.sum(axis=-1) < 250).sum())  # noqa: E731
    assert dark(opened) > dark(closed) + 50


def test_side_by_side_and_bad_shapes():
    seq = np.stack([_neutral()] * 3)
    frames = list(iter_sketch_frames(seq, size=128, reference=seq[:2]))
    assert len(frames) == 3 and frames[0].shape == (128, 256, 3)
    # the same face on both sides: identical panels below the labels
    assert np.array_equal(frames[0][30:, 2:126], frames[0][30:, 130:254])
    with pytest.raises(InvalidArgumentError, match="must be"):
        list(iter_sketch_frames(np.zeros((5, 67, 2))))
