"""The shipped blendshape head: topology, orientation, and what each shape does."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face.arkit import ARKIT_NAMES
from talkinghead.face.head3d import (
    BlendshapeAnimation,
    HeadModel,
    euler_to_rotation,
    load_head_model,
    rotation_to_euler,
)
from talkinghead.face.landmarks68 import mouth_openness_mesh


@pytest.fixture(scope="module")
def model() -> HeadModel:
    return load_head_model()


def shape(model, name, w=1.0):
    x = np.zeros(model.n_shapes, np.float32)
    x[model.index(name)] = w
    return model.deform(x) - model.neutral


def test_names_sizes_and_scale(model):
    assert model.names == ARKIT_NAMES
    assert model.deltas.shape == (52, model.n_vertices, 3)
    assert model.faces.dtype == np.int32 and model.neutral.dtype == np.float32
    fm = model.neutral[:468]
    assert 0.12 < np.ptp(fm[:, 0]) < 0.18  # ~0.15 m wide
    assert np.linalg.norm(fm[263] - fm[33]) == pytest.approx(0.09, rel=1e-3)
    assert fm[263, 0] > 0 > fm[33, 0]  # +x is the subject's left
    assert fm[10, 1] > fm[152, 1]  # +y up
    assert fm[1, 2] > fm[234, 2]  # nose tip toward +z
    for g in ("face_mesh", "eye_left", "eye_right", "mouth_cavity", "teeth_upper", "teeth_lower"):
        assert len(model.groups[g]) > 0


def test_every_shape_moves_something(model):
    motion = np.abs(model.deltas).max(axis=(1, 2))
    assert (motion > 1e-3).all(), [n for n, m in zip(model.names, motion, strict=True) if m <= 1e-3]


def test_skin_is_manifold_and_oriented_outwards(model):
    skin = np.concatenate([model.groups["face_mesh"], model.groups["scalp"]])
    is_skin = np.zeros(model.n_vertices, bool)
    is_skin[skin] = True
    f = model.faces[is_skin[model.faces].all(1)]
    und = Counter(tuple(sorted(e)) for t in f for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0])))
    assert max(und.values()) <= 2
    # consistent orientation: each interior edge is traversed once in each direction
    directed = Counter((t[i], t[(i + 1) % 3]) for t in f for i in range(3))
    assert max(directed.values()) == 1
    boundary = sum(c == 1 for c in und.values())
    assert boundary < 0.1 * len(und)  # only eye and mouth openings
    # front of the face: normals face the viewer
    v = model.neutral
    front = f[(f < 468).all(1)]
    t = v[front]
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    facing = n[np.abs(t.mean(1)[:, 0]) < 0.03, 2]
    assert (facing > 0).mean() > 0.9


def test_jaw_open_lowers_chin_and_opens_lips(model):
    d = shape(model, "jawOpen")
    assert d[152, 1] < -0.01  # chin down
    assert abs(d[10]).max() < 1e-6  # forehead fixed
    closed = mouth_openness_mesh(model.neutral[:468])
    opened = mouth_openness_mesh((model.neutral + d)[:468])
    assert opened > closed + 0.25
    assert (d[model.groups["teeth_lower"], 1] < 0).all()
    assert np.abs(d[model.groups["teeth_upper"]]).max() < 1e-6


def test_mouth_close_cancels_the_lip_opening(model):
    w = np.zeros(52, np.float32)
    w[model.index("jawOpen")] = 1
    w[model.index("mouthClose")] = 1
    both = model.deform(w)[:468]
    jaw = shape(model, "jawOpen")
    assert mouth_openness_mesh(both) < mouth_openness_mesh((model.neutral + jaw)[:468]) - 0.2


def test_blink_closes_only_that_eye(model):
    v0 = model.neutral
    for name, (up, lo), (oup, olo) in (
        ("eyeBlinkLeft", (386, 374), (159, 145)),
        ("eyeBlinkRight", (159, 145), (386, 374)),
    ):
        v = v0 + shape(model, name)
        gap0 = v0[up, 1] - v0[lo, 1]
        assert v[up, 1] - v[lo, 1] < 0.1 * gap0
        assert v[oup, 1] - v[olo, 1] == pytest.approx(gap0, abs=1e-6)


def test_smile_and_pucker(model):
    v0 = model.neutral
    d = shape(model, "mouthSmileLeft")
    assert d[291, 1] > 0.004 and d[291, 0] > 0.002  # subject's left corner up and out
    assert np.linalg.norm(d[61]) < 0.2 * np.linalg.norm(d[291])
    d = shape(model, "mouthSmileRight")
    assert d[61, 1] > 0.004 and d[61, 0] < -0.002
    width0 = v0[291, 0] - v0[61, 0]
    v = v0 + shape(model, "mouthPucker")
    assert v[291, 0] - v[61, 0] < 0.8 * width0
    assert v[0, 2] > v0[0, 2]  # lips forward
    v = v0 + shape(model, "mouthStretchLeft") + shape(model, "mouthStretchRight")
    assert v[291, 0] - v[61, 0] > 1.15 * width0


def test_brows_and_lips_directions(model):
    assert shape(model, "browInnerUp")[[285, 55], 1].min() > 0.003
    assert shape(model, "browDownLeft")[282, 1] < -0.002
    assert abs(shape(model, "browDownLeft")[52, 1]) < 1e-4
    assert shape(model, "mouthLowerDownLeft")[314, 1] < -0.003
    assert shape(model, "mouthUpperUpRight")[37, 1] > 0.003
    assert shape(model, "mouthRollLower")[17, 2] < -0.002
    assert shape(model, "cheekPuff")[425, 0] > 0.003


def test_pose_rotation_conventions(model):
    w = np.zeros(52)
    v = model.pose(w, euler_to_rotation(0.3, 0, 0), [0, 0, 0.1])
    assert v[1, 0] > model.neutral[1, 0] + 0.01  # yaw > 0: nose toward the subject's left
    v = model.pose(w, euler_to_rotation(0, 0.3, 0))
    assert v[1, 1] < model.neutral[1, 1]  # pitch > 0: looks down
    ypr = rotation_to_euler(euler_to_rotation([0.2, -0.1], [0.1, 0.05], [-0.05, 0.3]))
    np.testing.assert_allclose(np.stack(ypr, 1), [[0.2, 0.1, -0.05], [-0.1, 0.05, 0.3]], atol=1e-9)
    with pytest.raises(InvalidArgumentError, match="weights"):
        model.deform(np.zeros(3))


def test_save_load_roundtrip(model, tmp_path):
    p = model.save(tmp_path / "h.npz")
    m2 = HeadModel.load(p)
    np.testing.assert_array_equal(m2.deltas, model.deltas)
    assert m2.names == model.names and set(m2.groups) == set(model.groups)
    anim = BlendshapeAnimation(fps=25, weights=np.full((4, 52), 0.5), rotation=np.zeros((4, 3)))
    a2 = BlendshapeAnimation.load(anim.save(tmp_path / "a.npz"))
    assert a2.fps == 25 and a2.weights.shape == (4, 52) and a2.translation is None
    with pytest.raises(InvalidArgumentError, match="weights.shape"):
        BlendshapeAnimation(fps=25, weights=np.zeros((4, 5)))


def test_vertex_normals_one_implementation():
    import numpy as np

    from talkinghead.face.head3d import load_head_model, vertex_normals

    # a square in the x-y plane (two triangles, counter-clockwise) and one loose vertex
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [5, 5, 5]], float)
    n = vertex_normals(v, np.array([[0, 1, 2], [0, 2, 3]]))
    assert n.dtype == np.float32 and np.allclose(n, [[0, 0, 1]] * 5)
    # a tent: the shared edge's normals lean to the mean of the two faces
    tent = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 1], [-1, 0, 1]], float)
    n = vertex_normals(tent, np.array([[0, 2, 1], [0, 1, 3]]))
    assert np.allclose(np.linalg.norm(n, axis=1), 1) and np.allclose(n[0], [0, 0, 1], atol=1e-6)
    m = load_head_model()
    np.testing.assert_array_equal(m.vertex_normals(), vertex_normals(m.neutral, m.faces))
