"""The causal default model: streamed == offline, really causal, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import CheckpointError, InvalidArgumentError
from talkinghead.models.causal_default import (
    CAUSAL_DIR,
    CausalDefaultConfig,
    CausalDefaultModel,
    causal_gate,
    causal_logmel,
)


@pytest.fixture(scope="module")
def speech(example_speech):
    from talkinghead.audio.io import load_audio

    y, _ = load_audio(example_speech, sr=16000)
    return y[: 3 * 16000].astype(np.float64)


def tiny(seed=1):
    return CausalDefaultModel.random(CausalDefaultConfig(channels=16, dilations=[1, 2, 4]),
                                     seed=seed)  # fmt: skip


def stream_z(m, y, head, rng):
    st = m.new_state()
    out, i = [], 0
    while i < len(y):
        k = int(rng.integers(1, 4000))
        out.append(m.push(st, y[i : i + k]))
        i += k
    out.append(m.push(st, np.zeros(m.pad_samples(head)), end=True))
    return np.concatenate(out)[:, head][m.config.delays[head] :]


@pytest.mark.parametrize("head", [0, 2, 10])
def test_stream_equals_offline_any_chunking(speech, head):
    m = tiny()
    ref = m.zscore_offline(speech, head)
    for seed in range(3):
        z = stream_z(m, speech, head, np.random.default_rng(seed))
        assert z.shape == ref.shape
        np.testing.assert_allclose(z, ref, atol=1e-5)
    assert ref.std() > 1e-3  # not a constant


@pytest.mark.parametrize("head", [0, 4])
def test_outputs_do_not_see_past_their_lookahead(speech, head):
    """Changing the audio after sample s changes no row that was ready before s."""
    m = tiny()
    s = 24000
    y2 = speech.copy()
    y2[s:] = np.random.default_rng(0).normal(0, 0.3, len(y2) - s)
    st1, st2 = m.new_state(), m.new_state()
    a, b = m.push(st1, speech[:s]), m.push(st2, y2[:s])
    np.testing.assert_array_equal(a, b)
    z1 = m.zscore_offline(speech, head)
    z2 = m.zscore_offline(y2, head)
    ready = len(a) - m.config.delays[head]  # rows determined by the first s samples
    assert ready > 50
    np.testing.assert_allclose(z1[:ready], z2[:ready], atol=1e-6)
    assert np.abs(z1[ready + 5 :] - z2[ready + 5 :]).max() > 1e-3


def test_logmel_is_causal_and_matches_whisper_away_from_the_clamp(speech):
    from talkinghead.models.default import whisper_logmel

    m = causal_logmel(speech)
    w = whisper_logmel(y=speech.astype(np.float32), sr=16000)
    assert m.shape == w.shape
    # where Whisper's clip-wide clamp and the running one agree, the values agree
    assert np.median(np.abs(m[:, 10:] - w[:, 10:])) < 1e-4
    np.testing.assert_array_equal(causal_logmel(speech[:16000]), m[:, :100])


def test_gate_rests_in_silence_and_is_causal():
    db = np.r_[np.full(10, -20.0), np.full(10, -90.0), np.full(5, -20.0)]
    g = causal_gate(db)
    assert g[:10].min() == 1 and g[12:20].max() == 0 and g[-4:].min() == 1
    np.testing.assert_array_equal(causal_gate(db[:15]), g[:15])


def test_gate_reference_floor_silences_a_quiet_lead_in():
    """A prior speech level (ref_floor_db): a lead-in 40 dB below the later word is speech
    with the loudest-so-far reference alone (it is the loudest so far), silent with the
    floor; once the word is louder than the floor nothing changes."""
    db = np.r_[np.full(10, -75.0), np.full(10, -25.0), np.full(6, -75.0)]
    g0 = causal_gate(db, threshold_db=-40.0)
    g = causal_gate(db, threshold_db=-40.0, ref_floor_db=-20.0)
    assert g0[:10].min() == 1 and g[:10].max() == 0
    assert g[11:20].min() == 1 and g[-4:].max() == 0 and g0[-4:].max() == 0
    np.testing.assert_array_equal(causal_gate(db, threshold_db=-40.0, ref_floor_db=-90.0), g0)
    np.testing.assert_array_equal(causal_gate(db[:15], threshold_db=-40, ref_floor_db=-20), g[:15])


def test_torch_net_matches_numpy(speech):
    torch = pytest.importorskip("torch")
    from talkinghead.models.causal_default import build_net

    m = tiny()
    net = build_net(m.config)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in m.weights.items()})
    mel = causal_logmel(speech)
    with torch.no_grad():
        hz, _ = net(torch.from_numpy(mel)[None])
    np.testing.assert_allclose(hz[0].numpy().T, m.trunk_offline(mel), atol=1e-4)


def test_checkpoint_roundtrip_and_errors(tmp_path, speech):
    m = tiny()
    m.calibration = np.stack([np.linspace(-3, 3, 5), np.linspace(-2, 2, 5)])
    m.save_pretrained(tmp_path / "c")
    m2 = CausalDefaultModel.from_pretrained(tmp_path / "c")
    np.testing.assert_array_equal(m2.zscore_offline(speech, 1), m.zscore_offline(speech, 1))
    np.testing.assert_allclose(m2.calibration, m.calibration)
    with pytest.raises(CheckpointError, match="config.json"):
        CausalDefaultModel.from_pretrained(tmp_path / "missing")
    (tmp_path / "c" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        CausalDefaultModel.from_pretrained(tmp_path / "c")
    assert m.head_for(0) == 0 and m.head_for(45) == 2 and m.head_for(200) == 10
    with pytest.raises(InvalidArgumentError, match="lookahead_ms"):
        CausalDefaultModel.random(CausalDefaultConfig(channels=8, delays=[2])).head_for(0)


@pytest.mark.parametrize("clip", ["lbax4n", "sbia1a"])
def test_shipped_model_follows_the_offline_default(shared_data, clip):
    """On real speech it never trained on (evaluation clips), the shipped causal model
    tracks the offline default model's mouth, better with more look-ahead."""
    if not (CAUSAL_DIR / "config.json").is_file():
        pytest.skip("the causal default model is not shipped in this checkout")
    from talkinghead.audio.io import load_audio
    from talkinghead.models.causal_default import interp_to_frames
    from talkinghead.models.default import DefaultModel

    path = shared_data / "rizkiarm__LipNet" / "evaluation" / "samples" / "GRID" / f"{clip}.mpg"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    y, _ = load_audio(path, sr=16000)
    m = CausalDefaultModel.from_pretrained()
    off = DefaultModel.from_pretrained()
    n = int(len(y) / 16000 * 25)
    zo = off.predict_zscore(off.features(y=y, sr=16000, fps=25.0, n_frames=n))
    r = {}
    for la in (0, 80, 200):
        z = interp_to_frames(m.zscore_offline(y, m.head_for(la)), np.arange(n), 25.0)
        r[la] = np.corrcoef(z, zo)[0, 1]
    assert r[0] > 0.5 and r[80] > 0.7 and r[200] > 0.7, r
