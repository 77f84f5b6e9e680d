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


@pytest.mark.parametrize("model", ["default", "phonetic", "whisper"])
def test_projected_landmarks_match_the_sketch(shared_data, model):
    """The 3D head's 68 points (projected by the renderer's camera) follow the 2D sketch's
    landmarks of the same animation, real speech: within 3 % of the eye distance per frame.

    For the default (mouth v2: 7 articulation columns, 31 ARKit channels), the phonetic
    animator and the Whisper read-out (docs/3d.md has the measured values)."""
    from talkinghead.errors import DependencyError
    from talkinghead.face.landmarks68 import eye_centres_68, mesh_to_68
    from talkinghead.inference import animate
    from talkinghead.models.blendshape_bridge import animation_to_blendshapes

    clip = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    try:
        anim = animate(clip, fps=25.0, model=model)
    except DependencyError as e:
        pytest.skip(f"{model} model unavailable: {e}")
    bs = animation_to_blendshapes(anim)
    r = HeadRenderer(size=512, backend="cpu")
    m = r.model

    def projected(w):
        xy, _ = r.project(m.pose(w)[:468])
        return mesh_to_68(np.column_stack([xy, np.zeros(468)]))[:, :2]

    # one fixed camera -> sketch mapping: the neutral head's eye centres at (-0.5, 0), (0.5, 0)
    eyes = eye_centres_68(projected(np.zeros(m.n_shapes, np.float32)))
    c, s = eyes.mean(0), np.linalg.norm(eyes[1] - eyes[0])
    w = _weights_for(bs, m)
    err = np.array([np.linalg.norm((projected(w[t]) - c) / s - anim.landmarks[t], axis=1)
                    for t in range(anim.n_frames)])  # fmt: skip
    assert err.mean(1).max() < 0.03, err.mean(1).max()
    assert err[:, 48:].mean() < 0.02  # the mouth closer still
    gap2 = np.linalg.norm(anim.landmarks[:, 62] - anim.landmarks[:, 66], axis=1)
    gap3 = [np.linalg.norm(np.diff(projected(w[t])[[62, 66]], axis=0)) / s for t in range(len(w))]
    assert gap2.std() > 0.02 and np.corrcoef(gap2, gap3)[0, 1] > 0.85, np.corrcoef(gap2, gap3)


def _weights_for(bs, model):
    from talkinghead.render.head3d import weights_for_model

    return weights_for_model(bs, model)


@pytest.mark.parametrize("backend", BACKENDS)
def test_teeth_show_when_the_jaw_opens(backend):
    """Brightness down the middle of the mouth: lips when closed; upper teeth (bright,
    little colour) under the upper lip, then the dark cavity, when the jaw opens."""
    r = HeadRenderer(size=256, backend=backend)
    m = r.model

    def column(w):
        img = r.render(w).astype(float)
        xy, _ = r.project(m.pose(w))
        x = int(round(xy[13, 0]))
        y0, y1 = int(round(xy[13, 1])), int(round(xy[14, 1]))
        return img[y0 : y1 + 1, x - 1 : x + 2].mean(1), y1 - y0  # (rows, 3) RGB

    closed, h0 = column(_weights())
    opened, h1 = column(_weights(jawOpen=0.7))
    assert h0 <= 2 and h1 >= 10

    def teeth_like(rgb):  # bright and nearly grey
        return (rgb.mean(1) > 150) & (rgb.max(1) - rgb.min(1) < 60)

    assert not teeth_like(closed).any()
    top, rest = opened[: h1 // 3], opened[h1 // 3 :]
    assert teeth_like(top).sum() >= 2, top.round()
    assert rest.mean(1).min() < 70  # the cavity behind
    assert opened.mean(1).max() > rest.mean(1).min() + 100


def test_bridge_smile_constants_are_the_heads():
    """The bridge's smile / frown amplitudes are what the head's shapes do in its projected
    68 points (corner raise per |p36 - p45|; mouth-width gain), so the 2D sketch and the 3D
    head lift the corners alike."""
    from talkinghead.face.landmarks68 import mesh_to_68
    from talkinghead.models.blendshape_bridge import FROWN_AT_ONE, SMILE_AT_ONE, SMILE_WIDENING

    r = HeadRenderer(size=512, backend="cpu")

    def lm(**kw):
        xy, _ = r.project(r.model.pose(_weights(**kw))[:468])
        return mesh_to_68(np.column_stack([xy, np.zeros(468)]))[:, :2]

    p0 = lm()
    iod = np.linalg.norm(p0[45] - p0[36])
    both = lambda name, v: {f"{name}Left": v, f"{name}Right": v}  # noqa: E731
    smile = lm(**both("mouthSmile", 1.0), **both("cheekSquint", 0.4), **both("mouthDimple", 0.3))
    frown = lm(**both("mouthFrown", 1.0))
    raise_ = -(smile[[48, 54], 1] - p0[[48, 54], 1]).mean() / iod
    drop = (frown[[48, 54], 1] - p0[[48, 54], 1]).mean() / iod
    widen = np.linalg.norm(smile[54] - smile[48]) / np.linalg.norm(p0[54] - p0[48]) - 1
    assert raise_ == pytest.approx(SMILE_AT_ONE, rel=0.05)
    assert drop == pytest.approx(FROWN_AT_ONE, rel=0.05)
    assert widen == pytest.approx(SMILE_WIDENING, rel=0.05)
    # lip raise / drop leave the corners where they are
    for name in ("mouthUpperUp", "mouthLowerDown"):
        moved = lm(**both(name, 1.0))
        assert np.abs(moved[[48, 54]] - p0[[48, 54]]).max() < 0.01 * iod
        assert np.abs(moved[[51, 57]] - p0[[51, 57]]).max() > 0.02 * iod
