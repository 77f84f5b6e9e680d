"""Rendering the 3D head: GL (moderngl/EGL) and the CPU painter's-algorithm fallback."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.face.head3d import BlendshapeAnimation, euler_to_rotation, load_head_model
from talkinghead.models.blendshape_bridge import (
    articulation_to_animation,
    articulation_to_blendshapes,
    procedural_blinks,
    procedural_head_motion,
)
from talkinghead.render.head3d import (
    BACKGROUND,
    HeadRenderer,
    gl_available,
    render_head_frames,
    render_head_video,
)

BACKENDS = ["cpu", pytest.param("gl", marks=pytest.mark.skipif(not gl_available(), reason="no GL"))]


def _mask(img):
    bg = (np.array(BACKGROUND) * 255).round()
    return np.abs(img.astype(float) - bg).sum(-1) > 12


def _weights(**kw):
    m = load_head_model()
    w = np.zeros(52, np.float32)
    for k, v in kw.items():
        w[m.index(k)] = v
    return w


@pytest.mark.parametrize("backend", BACKENDS)
def test_face_centred_mouth_dark_when_open_and_turns(backend):
    r = HeadRenderer(size=256, backend=backend)
    img = r.render(_weights())
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    mask = _mask(img)
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - 128) < 15 and abs(ys.mean() - 128) < 40
    assert 0.15 < mask.mean() < 0.7
    # mouth region (projected lip centre)
    xy, _ = r.project(r.model.neutral)
    cx, cy = np.round(0.5 * (xy[13] + xy[14])).astype(int)
    box = (slice(cy - 6, cy + 12), slice(cx - 10, cx + 10))
    opened = r.render(_weights(jawOpen=1.0))
    assert opened[box].mean() < img[box].mean() - 20
    turned = _mask(r.render(_weights(), euler_to_rotation(0.5, 0, 0)))
    nose = r.project(r.model.pose(_weights(), euler_to_rotation(0.5, 0, 0)))[0][1]
    assert nose[0] > xy[1, 0] + 15  # the nose moves to the viewer's right (subject's left)
    assert (turned ^ mask).mean() > 0.01


def test_backends_agree():
    if not gl_available():
        pytest.skip("no GL")
    w = _weights(jawOpen=0.6, mouthSmileLeft=0.5)
    rot = euler_to_rotation(0.2, 0.1, 0.05)
    a = _mask(HeadRenderer(size=192, backend="cpu").render(w, rot))
    b = _mask(HeadRenderer(size=192, backend="gl").render(w, rot))
    assert (a & b).sum() / (a | b).sum() > 0.9


def test_bridge_and_video(tmp_path):
    art = np.zeros((10, 4))
    art[:, 0] = np.linspace(0, 0.3, 10)  # jaw opening
    art[5:, 3] = 1.0  # then lips closed
    w = articulation_to_blendshapes(art)
    m = load_head_model()
    assert w.shape == (10, 52) and np.all(np.diff(w[:, m.index("jawOpen")]) >= 0)
    assert w[-1, m.index("jawOpen")] > 0.7 and w[-1, m.index("mouthClose")] > 0.7
    blinks = procedural_blinks(25 * 60, 25.0, seed=3)
    onsets = ((blinks[1:, 0] >= 0.5) & (blinks[:-1, 0] < 0.5)).sum()
    assert 8 <= onsets <= 30 and blinks.max() == pytest.approx(1.0)
    assert (blinks[:, 0] > 0.05).mean() < 0.1  # eyes mostly open
    rot = procedural_head_motion(100, 25.0, energy=np.abs(np.sin(np.arange(100) / 7)), seed=1)
    assert rot.shape == (100, 3) and np.abs(rot).max() < 0.25
    assert np.abs(np.diff(rot, axis=0)).max() < 0.02  # smooth
    anim = articulation_to_animation(art, fps=25.0)
    assert isinstance(anim, BlendshapeAnimation)
    frames = list(render_head_frames(anim, size=64, backend="cpu"))
    assert len(frames) == 10 and frames[0].shape == (64, 64, 3)
    out = render_head_video(tmp_path / "h.mp4", anim, size=64, backend="cpu",
                            audio=np.zeros(4000, np.float32), sr=10000)  # fmt: skip
    assert out.stat().st_size > 1000
