"""FeatureNormalizer: streaming fit, round trips, JSON persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from talkinghead.audio.features import sakurai2018
from talkinghead.audio.normalize import FeatureNormalizer
from talkinghead.errors import CheckpointError, InvalidArgumentError


def batches(seed=0, d=5, offset=1e6):
    """Ragged batches with a large offset (catastrophic cancellation for naive sums)."""
    rng = np.random.default_rng(seed)
    sizes = [1, 7, 130, 0, 42, 3]
    scale = np.array([1e-3, 1.0, 10.0, 0.5, 2.0])[:d]
    return [offset + scale * rng.standard_normal((n, d)) for n in sizes]


def test_streaming_fit_equals_fit_on_concatenation():
    arrays = batches()
    cat = np.concatenate(arrays)
    norm = FeatureNormalizer.fit(iter(arrays))  # a one-shot generator is fine
    assert norm.count == len(cat) == 183
    np.testing.assert_allclose(norm.mean, cat.mean(axis=0), rtol=1e-15, atol=0)
    # float64 two-pass reference; the offset of 1e6 does not hurt the 1e-3 std
    np.testing.assert_allclose(norm.std, cat.std(axis=0), rtol=1e-7)
    one = FeatureNormalizer.fit([cat])
    np.testing.assert_allclose(norm.mean, one.mean, rtol=1e-15)
    np.testing.assert_allclose(norm.std, one.std, rtol=1e-7)
    # a single ndarray is accepted as one batch
    np.testing.assert_allclose(FeatureNormalizer.fit(cat).std, one.std, rtol=1e-12)


def test_float32_input_is_accumulated_in_float64():
    rng = np.random.default_rng(1)
    x = (1000.0 + rng.standard_normal((20000, 3))).astype(np.float32)
    norm = FeatureNormalizer.fit(np.array_split(x, 37))
    ref = x.astype(np.float64)
    np.testing.assert_allclose(norm.mean, ref.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(norm.std, ref.std(axis=0), rtol=1e-9)


def test_transform_round_trip_and_moments():
    arrays = batches(offset=3.0)
    cat = np.concatenate(arrays)
    norm = FeatureNormalizer.fit(arrays)
    z = norm.transform(cat)
    assert z.shape == cat.shape and z.dtype == np.float64
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-10)
    np.testing.assert_allclose(norm.inverse_transform(z), cat, rtol=1e-12)
    # float32 stays float32; any leading shape works
    z32 = norm.transform(cat[:10].astype(np.float32).reshape(2, 5, 5))
    assert z32.dtype == np.float32 and z32.shape == (2, 5, 5)
    assert norm.transform(cat[0]).shape == (5,)


def test_constant_dimensions_do_not_blow_up():
    x = np.column_stack([np.full(50, 7.0), np.arange(50.0), np.full(50, -2.0)])
    x[:, 2] += 1e-12 * np.arange(50)  # nearly constant: std below the floor
    norm = FeatureNormalizer.fit([x])
    z = norm.transform(x)
    assert np.all(np.isfinite(z))
    np.testing.assert_array_equal(norm.scale[[0, 2]], [1.0, 1.0])
    np.testing.assert_allclose(z[:, 0], 0.0)
    assert np.abs(z[:, 2]).max() < 1e-9
    np.testing.assert_allclose(norm.inverse_transform(z), x, atol=1e-12)
    # a new value in a constant dim is only shifted
    assert norm.transform(np.array([[8.0, 0.0, -2.0]]))[0, 0] == pytest.approx(1.0)


def test_json_save_load_equality(tmp_path):
    names = [f"f{i}" for i in range(5)]
    norm = FeatureNormalizer.fit(batches(), names=names)
    path = norm.save(tmp_path / "sub" / "feature_norm.json")
    assert path.is_file()
    assert list(path.parent.iterdir()) == [path]  # atomic write left no temporary file
    d = json.loads(path.read_text())
    assert d["format"] == "talkinghead.FeatureNormalizer" and d["dim"] == 5
    back = FeatureNormalizer.load(path)
    assert back == norm
    assert back.names == tuple(names)
    np.testing.assert_array_equal(back.mean, norm.mean)  # bit-exact float64 round trip
    np.testing.assert_array_equal(back.std, norm.std)
    assert FeatureNormalizer.from_dict(norm.to_dict()) == norm
    x = np.concatenate(batches(seed=5))
    np.testing.assert_array_equal(back.transform(x), norm.transform(x))


def test_load_errors_name_the_path(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(CheckpointError, match="nope.json"):
        FeatureNormalizer.load(missing)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CheckpointError, match="bad.json"):
        FeatureNormalizer.load(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        json.dumps(
            {
                "format": "talkinghead.FeatureNormalizer",
                "version": 1,
                "mean": [0.0, 1.0],
                "std": [1.0],
            }
        )
    )
    with pytest.raises(CheckpointError, match="wrong.json"):
        FeatureNormalizer.load(wrong)


def test_invalid_arguments():
    with pytest.raises(InvalidArgumentError, match="at least one row"):
        FeatureNormalizer.fit([])
    with pytest.raises(InvalidArgumentError, match="at least one row"):
        FeatureNormalizer.fit([np.zeros((0, 3))])
    with pytest.raises(InvalidArgumentError, match=r"arrays\[1\] with 4 columns must have D=3"):
        FeatureNormalizer.fit([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(InvalidArgumentError, match="must be 2-D"):
        FeatureNormalizer.fit([np.zeros(3)])
    with pytest.raises(InvalidArgumentError, match="NaN"):
        FeatureNormalizer.fit([np.array([[0.0, np.nan]])])
    with pytest.raises(InvalidArgumentError, match="one name per dimension"):
        FeatureNormalizer.fit([np.zeros((2, 3))], names=["a"])
    norm = FeatureNormalizer(mean=np.zeros(3), std=np.ones(3))
    with pytest.raises(InvalidArgumentError, match="D=3"):
        norm.transform(np.zeros((4, 2)))
    with pytest.raises(InvalidArgumentError, match="std must be >= 0"):
        FeatureNormalizer(mean=np.zeros(2), std=-np.ones(2))


def test_fit_on_real_speech_features(example_speech):
    y, sr = sf.read(example_speech, dtype="float32")
    half = len(y) // 2
    parts = [sakurai2018(y=y[:half], sr=sr, fps=25), sakurai2018(y=y[half:], sr=sr, fps=25)]
    norm = FeatureNormalizer.fit(parts)
    z = norm.transform(np.concatenate(parts))
    assert z.dtype == np.float32 and z.shape[1] == 40
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-3)
    assert norm.mean[-1] > 30  # F0 column (Hz, 0 when unvoiced): mean well above zero
