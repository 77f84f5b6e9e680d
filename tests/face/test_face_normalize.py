import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face.landmarks68 import eye_centres_68, mouth_openness_68
from talkinghead.face.normalize import (
    SimilarityTransform,
    neutral_face_68,
    pin_eyes,
    remove_identity,
    restore_identity,
)


def _face_sequence(seed=0, T=20):
    rng = np.random.default_rng(seed)
    base = neutral_face_68() * 90 + [180, 140]
    rot = np.radians(12)
    R = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    seq = np.stack([(base @ R.T) + [2 * t, -t] for t in range(T)])
    return seq + rng.normal(scale=0.5, size=seq.shape)


def test_pin_eyes_pins_the_first_frame_and_inverts():
    seq = _face_sequence()
    out, tf = pin_eyes(seq)
    assert np.allclose(eye_centres_68(out[0]), [[-0.5, 0], [0.5, 0]], atol=1e-9)
    # later frames keep their motion relative to the first
    assert not np.allclose(eye_centres_68(out[-1]), [[-0.5, 0], [0.5, 0]], atol=1e-3)
    assert np.allclose(tf.inverse().apply(out), seq, atol=1e-5)


def test_pin_eyes_frame_pins_that_frame():
    seq = _face_sequence()
    out, _ = pin_eyes(seq, frame=7)  # Eskimez 2018 pins the first *tracked* frame
    assert np.allclose(eye_centres_68(out[7]), [[-0.5, 0], [0.5, 0]], atol=1e-9)
    assert not np.allclose(eye_centres_68(out[0]), [[-0.5, 0], [0.5, 0]], atol=1e-3)
    with pytest.raises(InvalidArgumentError, match="frame=20 must be in"):
        pin_eyes(seq, frame=20)


def test_identity_removal_round_trip_and_target_identity():
    seq = _face_sequence(1)
    pinned, _ = pin_eyes(seq)
    mean = neutral_face_68()
    norm, identity = remove_identity(pinned, mean_shape=mean)
    assert np.allclose(norm.mean(axis=0), mean, atol=1e-9)
    assert np.allclose(restore_identity(norm, identity, mean_shape=mean), pinned, atol=1e-9)
    # another person's identity goes back on the same motion
    other = neutral_face_68() * 1.1
    moved = restore_identity(norm, other, mean_shape=mean)
    assert np.allclose(moved.mean(axis=0), other, atol=1e-9)


def test_similarity_transform_inverse():
    tf = SimilarityTransform(2.5, 0.3, (4.0, -7.0))
    pts = np.random.default_rng(2).normal(size=(10, 2))
    assert np.allclose(tf.inverse().apply(tf.apply(pts)), pts)


def test_neutral_face_is_eye_pinned_with_closed_lips():
    n = neutral_face_68()
    assert n.shape == (68, 2)
    assert np.allclose(eye_centres_68(n), [[-0.5, 0], [0.5, 0]], atol=1e-5)
    assert mouth_openness_68(n) < 0.05
    assert n[8, 1] > n[57, 1] > n[33, 1] > 0  # chin, lower lip, nose below the eyes


def test_bad_shapes():
    with pytest.raises(InvalidArgumentError, match="must be"):
        pin_eyes(np.zeros((3, 67, 2)))
    with pytest.raises(InvalidArgumentError, match="coincide"):
        pin_eyes(np.zeros((3, 68, 2)))
