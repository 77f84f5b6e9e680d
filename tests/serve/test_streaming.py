"""Streaming == offline for every animator, whatever the chunking."""

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


def tiny_model(delay: int = 2, context: int = 0):
    import torch

    from talkinghead.audio.normalize import FeatureNormalizer
    from talkinghead.face.normalize import neutral_face_68
    from talkinghead.models.sequence import SequenceModel, SequenceModelConfig, TargetTransform

    torch.manual_seed(0)
    d = 128 * (context + 1)
    cfg = SequenceModelConfig(
        input_dim=d, output_dim=136, layers=["L16", "F12", "L8"], delay_frames=delay
    )
    m = SequenceModel(cfg)
    rng = np.random.default_rng(0)
    m.normalizer = FeatureNormalizer(mean=rng.normal(0, 0.1, d), std=rng.uniform(0.5, 2, d))
    m.target_transform = TargetTransform(
        mean=neutral_face_68().reshape(-1), scale=np.full(136, 0.02)
    )
    m.meta = {"recipe": "eskimez2018", "fps": 25.0}
    if context:
        m.meta["recipe_state"] = {"context_frames": context}
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


def test_model_stream_with_context_frames_equals_offline(speech):
    # the authors' context frames (eskimez2018 recipe_state): rows [x_t, x_{t-1}, x_{t-2}]
    model = tiny_model(delay=1, context=2)
    sa = StreamingAnimator(ModelAnimator(model))
    frames = stream(sa, speech, np.random.default_rng(3))
    ref = sa.offline(speech)
    assert ref.n_frames == 82
    check_frames(frames, ref)
    bad = tiny_model(delay=1)  # 128 inputs, but the state says 2 context frames
    bad.meta["recipe_state"] = {"context_frames": 2}
    with pytest.raises(InvalidArgumentError, match="2 context frames"):
        ModelAnimator(bad)


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
    assert load_animator("energy").name == "energy"  # asked for by name only
    sa = StreamingAnimator(model="energy")
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
    sa = StreamingAnimator(sample_rate=16000, lookahead_ms=0, model="energy")
    frames = sa.push(y) + sa.end()
    jaw = np.array([f.blendshapes.get("jawOpen", 0.0) for f in frames])
    assert all(set(f.blendshapes) <= set(ARKIT_NAMES) for f in frames)
    assert jaw.max() > 0.2 and np.corrcoef(jaw, [f.mouth_open for f in frames])[0, 1] > 0.9
    assert any("mouthClose" in f.blendshapes for f in frames)  # lips meet in pauses


# ----------------------------------------------------------------------------- learned model


def tiny_causal(seed=1):
    from talkinghead.models.causal_default import CausalDefaultConfig, CausalDefaultModel

    m = CausalDefaultModel.random(CausalDefaultConfig(channels=16, dilations=[1, 2, 4]), seed=seed)
    m.calibration = np.stack([np.linspace(-4, 4, 9), np.linspace(-3, 3, 9) ** 3 / 9])
    return m


def check_whole_face(frames, ref, tol=1e-5):
    from talkinghead.face.arkit import ARKIT_NAMES

    check_frames(frames, ref, tol)
    assert all(list(f.blendshapes) == list(ARKIT_NAMES) for f in frames)  # all 52, in order
    bs = np.array([list(f.blendshapes.values()) for f in frames])
    np.testing.assert_allclose(bs, ref.blendshapes, atol=tol)
    np.testing.assert_allclose(np.stack([f.head_pose for f in frames]), ref.head_pose, atol=tol)
    np.testing.assert_allclose([f.brow for f in frames], ref.brow, atol=tol)
    np.testing.assert_allclose([f.blink for f in frames], ref.blink, atol=tol)


@pytest.mark.parametrize("lookahead_ms, fps", [(0, 25), (80, 25), (200, 29.97), (40, 60)])
def test_learned_stream_equals_offline_whole_face(speech, lookahead_ms, fps):
    from talkinghead.streaming import LearnedAnimator

    an = LearnedAnimator(tiny_causal(), fps=fps, lookahead_ms=lookahead_ms, seed=7)
    sa = StreamingAnimator(an, sample_rate=16000)
    ref = an.offline(speech)
    for seed in (0, 1):
        an.reset()
        sa = StreamingAnimator(an, sample_rate=16000)
        check_whole_face(stream(sa, speech, np.random.default_rng(seed)), ref)
    assert ref.blink.max() > 0.5 and ref.head_pose.std(0).min() > 1e-3  # blinks, head motion


def test_learned_stream_resampled_bytes_one_sample_chunks(speech):
    from talkinghead.streaming import LearnedAnimator

    y = (speech[:8000] * 20000).astype(np.int16)
    an = LearnedAnimator(tiny_causal(2), fps=25, lookahead_ms=120, seed=1)
    sa = StreamingAnimator(an, sample_rate=16000, format="s16")
    ref = sa.offline(y.tobytes())
    frames = []
    for i in range(0, len(y), 1):
        frames += sa.push(y[i : i + 1].tobytes())
    check_whole_face(frames + sa.end(), ref)


def test_learned_frames_are_causal(speech):
    """Each frame is emitted once its ready_sample has arrived, and never needs more
    than the look-ahead + 22.5 ms of audio past its start (+ half a frame for the gate)."""
    from talkinghead.streaming import LearnedAnimator

    for la in (0, 80):
        an = LearnedAnimator(tiny_causal(), fps=25, lookahead_ms=la)
        got = 0
        for i in range(0, len(speech) - 16000, 160):
            for f in an.push(speech[i : i + 160]):
                assert f.ready_sample <= i + 160
                lag_ms = 1000 * (f.ready_sample / 16000 - f.time)
                assert lag_ms <= la + 22.5 + 1e-6, lag_ms
                assert 1000 * (i + 160 - f.ready_sample) / 16000 < 10 + 1e-6  # not held back
                got += 1
        assert got > 40
        assert an.latency["algorithmic_ms"] == la + 22.5


def test_load_animator_default_is_the_learned_model_or_an_error(tmp_path):
    from talkinghead.data import MOUTH_V2_CAUSAL_DIR
    from talkinghead.errors import CheckpointError
    from talkinghead.models.causal_default import CAUSAL_DIR

    with pytest.raises(CheckpointError, match="config.json"):
        load_animator(tmp_path / "nothing")
    from talkinghead.models.default import FAST_DIR

    with pytest.raises(CheckpointError, match="offline default model"):
        load_animator(FAST_DIR)
    tiny_causal().save_pretrained(tmp_path / "c")
    f = load_animator(tmp_path / "c")
    assert f.name.startswith("causal:") and f(25, 40).lookahead_ms == 40
    if (CAUSAL_DIR / "config.json").is_file():  # the previously streamed model, by path
        an = load_animator(CAUSAL_DIR)(25, 80)
        assert an.name == "default-causal:80ms" and an.lookahead_ms == 80
    if not (MOUTH_V2_CAUSAL_DIR / "la0" / "config.json").is_file():
        pytest.skip("the streaming mouth v2 is not shipped in this checkout")
    f = load_animator()
    assert f.name == "mouth-v2-causal" and load_animator("default").name == "mouth-v2-causal"
    for ask, got in ((0, 0), (40, 40), (80, 80), (100, 80), (200, 200)):
        an = f(25, ask)
        assert an.name == f"mouth-v2-causal:{got}ms" and an.lookahead_ms == got


def test_scored_causal_model_is_the_folder_given(speech, tmp_path):
    """``systems.use_causal(DIR)`` (``bench/stream_accuracy.py --old --causal DIR``): the
    ``causal_*`` systems stream that checkpoint, exactly as its LearnedAnimator offline."""
    from talkinghead.streaming import LearnedAnimator
    from talkinghead.streaming import systems as S

    m = tiny_causal(4)
    m.save_pretrained(tmp_path / "c")
    try:
        S.use_causal(tmp_path / "c")
        assert S.causal_model().config.channels == 16
        y = (speech * 32767).astype(np.int16).astype(np.float32) / 32767
        got = S.causal_80(y=y, sr=16000, fps=25.0, n_frames=40)
        ref = LearnedAnimator(m, fps=25.0, lookahead_ms=80).offline(y)
        assert got.landmarks.shape == (40, 68, 2)
        np.testing.assert_allclose(got.mouth_open, ref.mouth_open[:40], atol=1e-5)
        assert np.ptp(got.mouth_open) > 0
    finally:
        S.use_causal(None)
    assert S._CAUSAL["dir"] is None


def test_shipped_learned_stream_equals_offline_and_speaks(example_speech):
    from talkinghead.audio.io import load_audio
    from talkinghead.data import MOUTH_V2_CAUSAL_DIR

    if not (MOUTH_V2_CAUSAL_DIR / "la0" / "config.json").is_file():
        pytest.skip("the streaming mouth v2 is not shipped in this checkout")
    y, sr = sf.read(example_speech, dtype="float32")
    sa = StreamingAnimator(sample_rate=sr, lookahead_ms=40)
    assert sa.animator.name == "mouth-v2-causal:40ms"
    ref = sa.offline(y)
    check_whole_face(stream(sa, y, np.random.default_rng(3)), ref, tol=2e-5)
    # the mouth follows the speech: it agrees with the offline mouth v2 (animate()'s
    # default) it is the streaming counterpart of, in opening and in width (measured on this
    # clip at 40 ms: r 0.48 and 0.36; held-out accuracy against real faces:
    # bench/stream_accuracy.py, docs/streaming.md)
    from talkinghead.evaluate.mouth_metrics import mouth_width_68
    from talkinghead.inference import animate

    off = animate(load_audio(example_speech, sr=16000)[0], sr=16000, fps=25)
    n = min(len(off.mouth_open), ref.n_frames)
    r = np.corrcoef(ref.mouth_open[:n], np.asarray(off.mouth_open)[:n])[0, 1]
    assert r > 0.38, r
    w_s, w_o = mouth_width_68(ref.landmarks[:n]), mouth_width_68(np.asarray(off.landmarks)[:n])
    assert np.corrcoef(w_s, w_o)[0, 1] > 0.25
    assert ref.mouth_open.max() - ref.mouth_open.min() > 0.05


# ----------------------------------------------------------------------------- streaming mouth v2


def tiny_mouth(lookahead=2, seed=3, prior=True, members=0):
    """A seeded causal mouth v2 on a tiny causal trunk (numpy weights, no torch), with
    ``members`` more seeded networks averaged in (an ensemble)."""
    from talkinghead.face.articulation import DofStats
    from talkinghead.models.mouth import MouthConfig, MouthModel

    causal = tiny_causal(seed)
    c = 12
    d_in = causal.config.channels + len(causal.config.delays)
    cfg = MouthConfig(frontend="causal", in_dim=d_in, channels=c, kernel=3, dilations=[1, 2],
                      lookahead=lookahead, utterance_norm=False, prior=prior,
                      prior_blend=0.5 if prior else 0.0)  # fmt: skip
    rng = np.random.default_rng(seed)

    def net():
        w = {"inp.weight": rng.normal(0, 1 / np.sqrt(d_in), (c, d_in, 1)),
             "inp.bias": rng.normal(0, 0.1, c),
             "out.weight": rng.normal(0, 1 / np.sqrt(c), (6, c, 1)),
             "out.bias": np.zeros(6)}  # fmt: skip
        for i in range(2):
            w[f"blocks.{i}.conv.weight"] = rng.normal(0, 0.5 / np.sqrt(3 * c), (c, c, 3))
            w[f"blocks.{i}.conv.bias"] = rng.normal(0, 0.05, c)
        return w

    w = net()
    more = [net() for _ in range(members)]
    cal = np.stack([np.stack([np.linspace(-5, 5, 11), np.linspace(-4, 4, 11) ** 3 / 16])] * 6)
    stats = DofStats([0.08, 0.62, 0, 0, 0, 0], [0.05, 0.03, 0.01, 0.015, 0.01, 0.01],
                     [-1.0, -0.3, 0, 0, 0, 0])  # fmt: skip
    return MouthModel(cfg, w, feature_mean=rng.normal(0, 0.1, d_in),
                      feature_scale=rng.uniform(0.5, 2, d_in), dof_stats=stats,
                      calibration=cal, causal=causal, members=more)  # fmt: skip


@pytest.mark.parametrize("lookahead, fps", [(0, 25), (2, 25), (4, 29.97), (10, 60)])
def test_mouth_stream_equals_offline_whole_face(speech, lookahead, fps):
    from talkinghead.streaming import MouthAnimator

    an = MouthAnimator(tiny_mouth(lookahead), fps=fps, seed=5)
    ref = an.offline(speech)
    for seed in (0, 1):
        an.reset()
        sa = StreamingAnimator(an, sample_rate=16000)
        check_whole_face(stream(sa, speech, np.random.default_rng(seed)), ref)
    assert ref.blink.max() > 0.5 and ref.head_pose.std(0).min() > 1e-3
    # the six DOFs move the mouth (width, lips), not only the jaw
    assert np.std(ref.blendshapes, axis=0).max() > 0.01 and ref.mouth_open.std() > 1e-3


def test_mouth_gate_reference_level_streams(speech):
    """With a prior speech level (MouthConfig.gate_ref_db) the streamed gate equals the
    offline one, and a quiet lead-in rests (it moves with the loudest-so-far gate alone)."""
    from talkinghead.streaming import MouthAnimator

    lead = np.random.default_rng(0).normal(0, 3e-4, 8000)  # -70 dB of full scale
    y = np.r_[lead, speech]
    m = tiny_mouth(2)
    m.config.gate_db = -40.0
    base = MouthAnimator(m, fps=25, seed=5).offline(y)
    m.config.gate_ref_db = -20.0
    an = MouthAnimator(m, fps=25, seed=5)
    ref = an.offline(y)
    sa = StreamingAnimator(an, sample_rate=16000)
    check_whole_face(stream(sa, y, np.random.default_rng(1)), ref)
    rest = ref.mouth_open[:10]
    assert np.ptp(rest) < 1e-6 and np.ptp(base.mouth_open[:10]) > 1e-4
    np.testing.assert_allclose(ref.mouth_open[20:], base.mouth_open[20:], atol=1e-6)


def test_mouth_ensemble_streams_its_averaged_networks(speech):
    """A causal ensemble (members averaged, MouthModel.network) streams: the stream equals
    its offline output, which differs from its first network's alone."""
    from talkinghead.streaming import MouthAnimator

    m = tiny_mouth(4, members=2)
    an = MouthAnimator(m, fps=25, seed=5)
    ref = an.offline(speech)
    sa = StreamingAnimator(an, sample_rate=16000)
    check_whole_face(stream(sa, speech, np.random.default_rng(2)), ref)
    z, z1 = an._z_offline(speech), MouthAnimator(tiny_mouth(4))._z_offline(speech)
    assert z.shape == z1.shape and np.abs(z - z1).max() > 0.01


def test_mouth_offline_is_the_mouth_models_dofs(speech):
    """The animator's offline z rows are MouthModel.predict_dofs on its causal front end,
    and the network alone never reads past its look-ahead."""
    from talkinghead.models.mouth import causal_frames
    from talkinghead.streaming import MouthAnimator

    m = tiny_mouth(3, prior=False)
    f = causal_frames(m.causal, speech)
    assert len(f) == -(-len(speech) // 320) + 1
    z = m.predict_dofs(f)
    np.testing.assert_allclose(MouthAnimator(m)._z_offline(speech), z)
    cut = 60  # frames 0..cut-1 read input rows <= cut - 1 + 3 only
    f2 = f.copy()
    f2[cut + 3 :] += 5.0
    np.testing.assert_allclose(m.predict_dofs(f2)[:cut], z[:cut], atol=1e-6)
    assert not np.allclose(m.predict_dofs(f2)[cut], z[cut])


def test_mouth_stream_resampled_bytes_one_sample_chunks(speech):
    from talkinghead.streaming import MouthAnimator

    y = (speech[:8000] * 20000).astype(np.int16)
    an = MouthAnimator(tiny_mouth(4), fps=25, seed=1)
    sa = StreamingAnimator(an, sample_rate=16000, format="s16")
    ref = sa.offline(y.tobytes())
    frames = []
    for i in range(len(y)):
        frames += sa.push(y[i : i + 1].tobytes())
    check_whole_face(frames + sa.end(), ref)


def test_mouth_frames_are_causal_and_checkpoint_loads(speech, tmp_path):
    from talkinghead.errors import CheckpointError
    from talkinghead.streaming import MouthAnimator

    for L in (0, 4):
        tiny_mouth(L).save_pretrained(tmp_path / "fam" / f"la{L}", half=False)
    f = load_animator(tmp_path / "fam")
    assert f.name.startswith("mouth-causal:")
    for ask, got in ((0, 0), (40, 0), (80, 80), (200, 80)):
        an = f(25, ask)
        assert isinstance(an, MouthAnimator) and an.lookahead_ms == got
        n = 0
        for i in range(0, len(speech) - 16000, 160):
            for fr in an.push(speech[i : i + 160]):
                assert fr.ready_sample <= i + 160
                assert 1000 * (fr.ready_sample / 16000 - fr.time) <= got + 22.5 + 1e-6
                n += 1
        assert n > 40 and an.latency["algorithmic_ms"] == got + 22.5
    single = load_animator(tmp_path / "fam" / "la4")
    assert single(25, 0).lookahead_ms == 80
    from talkinghead.data import MOUTH_V2_DIR

    if (MOUTH_V2_DIR / "config.json").is_file():  # the offline mouth v2 cannot stream
        with pytest.raises(CheckpointError, match="frontend='causal'"):
            load_animator(MOUTH_V2_DIR)


def test_push_batch_equals_pushing_each_stream(speech):
    """Many streams pushed together (what the server does per tick) give each stream the
    frames it gets alone, whatever their animators, chunkings and look-aheads."""
    from talkinghead.streaming import LearnedAnimator, MouthAnimator, push_batch

    m0, m4, c = tiny_mouth(0), tiny_mouth(4, members=1), tiny_causal()
    makers = [lambda: MouthAnimator(m0, seed=1), lambda: MouthAnimator(m4, seed=2),
              lambda: MouthAnimator(m0, fps=30, seed=3), lambda: LearnedAnimator(c, seed=4),
              lambda: EnergyAnimator(lookahead_ms=40),
              lambda: MouthAnimator(m4, seed=6)]  # fmt: skip
    alone = [StreamingAnimator(mk(), sample_rate=16000) for mk in makers]
    batch = [StreamingAnimator(mk(), sample_rate=16000) for mk in makers]
    rng = np.random.default_rng(0)
    pos = [0] * len(makers)
    got_a = [[] for _ in makers]
    got_b = [[] for _ in makers]
    while min(pos) < len(speech):
        items, idx = [], []
        for k in range(len(makers)):
            if pos[k] >= len(speech) or rng.random() < 0.2:
                continue  # not every stream has a chunk every tick
            n = int(rng.integers(1, 1200))
            ch = speech[pos[k] : pos[k] + n]
            pos[k] += n
            got_a[k] += alone[k].push(ch)
            items.append((batch[k], ch))
            idx.append(k)
        for k, fr in zip(idx, push_batch(items), strict=True):
            assert not isinstance(fr, Exception), fr
            got_b[k] += fr
    for k in range(len(makers)):
        a, b = got_a[k] + alone[k].end(), got_b[k] + batch[k].end()
        assert [f.index for f in a] == [f.index for f in b] and len(a) > 50
        np.testing.assert_allclose([f.landmarks for f in a], [f.landmarks for f in b], atol=1e-6)
        if a[0].blendshapes is not None and k != 4:
            bs_a = [list(f.blendshapes.values()) for f in a]
            np.testing.assert_allclose(bs_a, [list(f.blendshapes.values()) for f in b], atol=1e-6)
            np.testing.assert_allclose([f.head_pose for f in a], [f.head_pose for f in b])
    bad = push_batch([(batch[0], b"\x00\x01\x02")])  # one stream's bad chunk is its own error
    assert isinstance(bad[0], InvalidArgumentError)
