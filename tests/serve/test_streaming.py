"""Streaming == offline for both animators, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from talkinghead.audio.features import eskimez2018, n_frames_for
from talkinghead.errors import InvalidArgumentError
from talkinghead.streaming import (
    EnergyAnimator,
    EskimezFeatureStream,
    ModelAnimator,
    PcmConverter,
    StreamingAnimator,
    load_animator,
    pcm_to_float,
)


@pytest.fixture(scope="module")
def speech(example_speech):
    import soxr

    y, sr = sf.read(example_speech, dtype="float32")
    return soxr.resample(y[: int(3.3 * sr)], sr, 16000).astype(np.float32)  # 3.3 s at 16 kHz


def tiny_model(delay: int = 2):
    import torch

    from talkinghead.audio.normalize import FeatureNormalizer
    from talkinghead.face.normalize import neutral_face_68
    from talkinghead.models.sequence import SequenceModel, SequenceModelConfig, TargetTransform

    torch.manual_seed(0)
    cfg = SequenceModelConfig(
        input_dim=128, output_dim=136, layers=["L16", "F12", "L8"], delay_frames=delay
    )
    m = SequenceModel(cfg)
    rng = np.random.default_rng(0)
    m.normalizer = FeatureNormalizer(mean=rng.normal(0, 0.1, 128), std=rng.uniform(0.5, 2, 128))
    m.target_transform = TargetTransform(
        mean=neutral_face_68().reshape(-1), scale=np.full(136, 0.02)
    )
    m.meta = {"recipe": "eskimez2018", "fps": 25.0}
    return m.eval()


def stream(sa, y, rng, pieces=None, as_bytes=False):
    frames, i = [], 0
    while i < len(y):
        n = int(rng.integers(1, 4001)) if pieces is None else pieces
        frames += sa.push(y[i : i + n].tobytes() if as_bytes else y[i : i + n])
        i += n
    return frames + sa.end()


def check_frames(frames, ref, tol=1e-5):
    assert [f.index for f in frames] == list(range(ref.n_frames))
    lm = np.stack([f.landmarks for f in frames])
    np.testing.assert_allclose(lm, ref.landmarks, atol=tol)
    np.testing.assert_allclose([f.mouth_open for f in frames], ref.mouth_open, atol=tol)


def test_feature_stream_equals_offline(speech):
    rng = np.random.default_rng(1)
    fs = EskimezFeatureStream(sr=16000, fps=29.97)
    rows, i = [], 0
    while i < len(speech):
        n = int(rng.integers(1, 4001))
        rows.append(fs.push(speech[i : i + n]))
        i += n
    rows.append(fs.finish())
    got = np.concatenate(rows)
    ref = eskimez2018(y=speech, sr=16000, fps=29.97)
    assert got.shape == ref.shape == (n_frames_for(len(speech) / 16000, 29.97), 128)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert len(fs.buf.data) < 2 * fs.win + 4001  # the ring buffer stays small


@pytest.mark.parametrize("seed", [0, 1])
def test_model_stream_equals_offline(speech, seed):
    model = tiny_model(delay=2)
    sa = StreamingAnimator(ModelAnimator(model))
    frames = stream(sa, speech, np.random.default_rng(seed))
    ref = sa.offline(speech)
    assert ref.n_frames == n_frames_for(len(speech) / 16000, 25.0) == 82
    check_frames(frames, ref)
    # frames come out as soon as determined: all but the last few before end()
    sa2 = StreamingAnimator(ModelAnimator(model))
    early = sa2.push(speech)
    assert len(early) >= ref.n_frames - 3
    assert all(f.ready_sample <= len(speech) for f in early)


def test_model_stream_resampled_s16(example_speech):
    y, sr = sf.read(example_speech, dtype="int16")
    y = y[: int(2.0 * sr)]
    sa = StreamingAnimator(ModelAnimator(tiny_model(delay=1)), sample_rate=sr, format="s16")
    frames = stream(sa, y, np.random.default_rng(3), as_bytes=True)
    ref = sa.offline(y.tobytes())
    assert ref.n_frames == 50
    check_frames(frames, ref)


@pytest.mark.parametrize("lookahead_ms", [0, 40, 200])
def test_energy_stream_equals_offline(speech, lookahead_ms):
    an = EnergyAnimator(fps=25, lookahead_ms=lookahead_ms)
    sa = StreamingAnimator(an)
    frames = stream(sa, speech, np.random.default_rng(lookahead_ms))
    ref = an.offline(speech)
    assert ref.n_frames == 82
    check_frames(frames, ref)
    mo = ref.mouth_open
    assert mo.min() < 0.01 and mo.max() > 0.15  # closes in pauses, opens on speech
    assert an.latency["lookahead_ms"] == pytest.approx(lookahead_ms)
    # a frame is never determined before its look-ahead has arrived
    for f in frames[:-10]:
        assert f.ready_sample >= (f.index + 0.5 + an.L) * 640


def test_energy_odd_fps_one_sample_chunks(speech):
    y = speech[:9000]
    an = EnergyAnimator(fps=29.97, lookahead_ms=80)
    sa = StreamingAnimator(an)
    frames = stream(sa, y, None, pieces=1)
    check_frames(frames, an.offline(y))
    assert len(frames) == n_frames_for(9000 / 16000, 29.97)


def test_pcm_and_arguments():
    np.testing.assert_array_equal(
        pcm_to_float(np.array([0, 16384, -32768], "<i2").tobytes(), "s16"), [0, 0.5, -1]
    )
    with pytest.raises(InvalidArgumentError, match="multiple of 4"):
        pcm_to_float(b"abc", "f32")
    with pytest.raises(InvalidArgumentError, match="format="):
        PcmConverter(16000, fmt="u8")
    with pytest.raises(InvalidArgumentError, match="sample_rate="):
        PcmConverter(100)
    with pytest.raises(InvalidArgumentError, match="lookahead_ms="):
        EnergyAnimator(lookahead_ms=250)
    assert load_animator().name == "energy"  # no default model shipped yet
    sa = StreamingAnimator()
    assert sa.end() == [] and sa.end() == []
    with pytest.raises(InvalidArgumentError, match="after end"):
        sa.push(np.zeros(10, np.float32))


def test_model_checkpoint_roundtrip(tmp_path, speech):
    model = tiny_model(delay=0)
    model.save_pretrained(tmp_path / "ckpt")
    factory = load_animator(tmp_path / "ckpt")
    assert factory.name.startswith("model:")
    an = factory(25, 40)
    sa = StreamingAnimator(an)
    frames = stream(sa, speech[:16000], np.random.default_rng(5))
    check_frames(frames, an.offline(speech[:16000]))


def test_energy_frames_carry_arkit_blendshapes(example_speech):
    from talkinghead.audio.io import load_audio
    from talkinghead.face.arkit import ARKIT_NAMES
    from talkinghead.streaming import StreamingAnimator

    y, _ = load_audio(example_speech, sr=16000)
    sa = StreamingAnimator(sample_rate=16000, lookahead_ms=0)
    frames = sa.push(y) + sa.end()
    jaw = np.array([f.blendshapes.get("jawOpen", 0.0) for f in frames])
    assert all(set(f.blendshapes) <= set(ARKIT_NAMES) for f in frames)
    assert jaw.max() > 0.2 and np.corrcoef(jaw, [f.mouth_open for f in frames])[0, 1] > 0.9
    assert any("mouthClose" in f.blendshapes for f in frames)  # lips meet in pauses
