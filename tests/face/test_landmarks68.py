import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face import landmarks68 as L


def test_index_map_covers_68_points_with_valid_mesh_indices():
    assert len(L.MESH_TO_68) == 68
    flat = [i for s in L.MESH_TO_68 for i in s]
    assert all(0 <= i < 468 for i in flat)
    groups = [i for g in L.GROUPS.values() for i in g]
    assert groups == list(range(68))
    # the documented anchor points
    assert L.MESH_TO_68[62] == (13,) and L.MESH_TO_68[66] == (14,)
    assert L.MESH_TO_68[36] == (33,) and L.MESH_TO_68[45] == (263,)
    assert L.MESH_TO_68[8] == (152,)


def test_mesh_to_68_picks_and_averages():
    mesh = np.arange(468 * 3, dtype=np.float64).reshape(468, 3)
    lm = L.mesh_to_68(mesh)
    assert lm.shape == (68, 3)
    assert np.array_equal(lm[62], mesh[13])
    assert np.allclose(lm[3], (mesh[132] + mesh[58]) / 2)
    batch = L.mesh_to_68(np.stack([mesh, mesh * 2]))
    assert batch.shape == (2, 68, 3) and np.allclose(batch[1], 2 * lm)
    assert L.mesh_to_68(np.zeros((478, 2), np.float32)).dtype == np.float32
    with pytest.raises(InvalidArgumentError, match="468 or 478"):
        L.mesh_to_68(np.zeros((100, 3)))


def test_mouth_openness_known_answers():
    lm = np.zeros((68, 2))
    lm[36], lm[45] = (0, 0), (4, 0)
    lm[62], lm[66] = (2, 5), (2, 6)
    assert L.mouth_openness_68(lm) == pytest.approx(0.25)
    mesh = np.zeros((468, 2))
    mesh[33], mesh[263] = (0, 0), (10, 0)
    mesh[13], mesh[14] = (5, 3), (5, 6)
    assert L.mouth_openness_mesh(mesh) == pytest.approx(0.3)
    assert L.eye_centres_68(np.ones((68, 2))).shape == (2, 2)


def test_edges_follow_the_polylines():
    edges = L.edges_68()
    assert (41, 36) in edges and (36, 37) in edges  # eyes are closed loops
    assert (16, 0) not in edges and (0, 1) in edges  # the jaw is open
    assert len(edges) == len(set(edges))
