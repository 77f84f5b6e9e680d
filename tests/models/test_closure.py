"""The /p b m/ frame classifier (models.mouth.ClosureNet, recipes/closure.py) and the
closures it drives in MouthModel."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import CheckpointError, InvalidArgumentError
from talkinghead.models.mouth import ClosureNet, MouthConfig, MouthModel, closure_config
from talkinghead.recipes.closure import (
    average_precision,
    frame_targets,
    precision_recall,
    speed_perturb,
    train_closure,
)

torch = pytest.importorskip("torch")


def test_frame_targets_mark_the_bilabial_frames():
    phones = [("SIL", 0.0, 0.1), ("B", 0.1, 0.16), ("AA", 0.16, 0.3), ("m", 0.3, 0.35)]
    t = frame_targets(phones, 20)  # frame times 0.005, 0.025, ...
    times = np.arange(20) * 0.02 + 0.005
    want = ((times >= 0.1) & (times < 0.16)) | ((times >= 0.3) & (times < 0.35))
    np.testing.assert_array_equal(t, want.astype(np.float32))
    assert t.sum() == 6  # 0.105 .. 0.145 and 0.305 .. 0.345


def test_average_precision_known_answers():
    # ranking 1, 0, 1, 0: precision 1/1 at the first hit, 2/3 at the second
    assert average_precision(np.array([0.9, 0.8, 0.1, 0.7]), np.array([1, 0, 0, 1])) == (
        pytest.approx((1 + 2 / 3) / 2)
    )
    assert average_precision(np.array([0.9, 0.1]), np.array([1, 0])) == 1.0
    assert np.isnan(average_precision(np.array([0.3, 0.2]), np.array([0, 0])))
    with pytest.raises(InvalidArgumentError, match="prob.shape"):
        average_precision(np.zeros(3), np.zeros(4))


def test_speed_perturb_scales_audio_and_phone_times_together():
    sr = 16000
    y = np.zeros(sr, np.float32)
    y[8000:8160] = 1.0  # a click at 0.5 s
    y2, ph = speed_perturb(y, [("M", 0.5, 0.6)], 1.25)
    assert abs(len(y2) - sr / 1.25) <= 2
    assert abs(np.argmax(np.abs(y2)) / sr - 0.5 / 1.25) < 0.01  # the click moved with the times
    assert ph == [("M", pytest.approx(0.4), pytest.approx(0.48))]
    same, ph1 = speed_perturb(y, [("M", 0.5, 0.6)], 1.0)
    np.testing.assert_array_equal(same, y)
    with pytest.raises(InvalidArgumentError, match="factor=3"):
        speed_perturb(y, [], 3)


def _toy(seed, n_clips=12, T=300):
    """Clips whose channel 0 carries a 'bilabial' bump where the target is 1 (others noise)."""
    rng = np.random.default_rng(seed)
    xs, ts = [], []
    for _ in range(n_clips):
        t = np.zeros(T, np.float32)
        for s in rng.choice(T - 8, size=6, replace=False):
            t[s : s + 4] = 1.0
        x = rng.standard_normal((T, 6)).astype(np.float32)
        x[:, 0] += 3.0 * t
        xs.append(x)
        ts.append(t)
    return xs, ts


def test_classifier_learns_seeded_and_numpy_matches_torch():
    xs, ts = _toy(0)
    cfg = closure_config(6, channels=8, dilations=[1, 2])
    a = train_closure(xs, ts, config=cfg, steps=800, crop=100, seed=3, dropout=0.0)
    b = train_closure(xs, ts, config=cfg, steps=800, crop=100, seed=3, dropout=0.0)
    for k in a.weights:  # seeded: the same weights twice
        np.testing.assert_array_equal(a.weights[k], b.weights[k])
    vx, vt = _toy(1, n_clips=4)  # unseen clips
    p = np.concatenate([a.prob(x) for x in vx])
    prec, rec = precision_recall(p, np.concatenate(vt))
    assert prec > 0.8 and rec > 0.8, (prec, rec)
    from talkinghead.models.mouth import build_torch

    net = build_torch(cfg)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in a.weights.items()})
    net.eval()
    with torch.no_grad():
        want = net(torch.from_numpy(np.ascontiguousarray(vx[0].T))[None])[0, 0].numpy()
    np.testing.assert_allclose(a.logits(vx[0]), want, atol=1e-4)
    with pytest.raises(InvalidArgumentError, match="x.shape"):
        a.logits(np.zeros((5, 3), np.float32))


def _mouth_with_closure(bias: float):
    """A small mel-front-end MouthModel with a classifier whose p is ~ constant."""
    torch.manual_seed(0)
    m = MouthModel(MouthConfig(frontend="mel", in_dim=80, channels=16, dilations=[1, 2, 4]))
    ccfg = closure_config(80, channels=8, dilations=[1])
    torch.manual_seed(1)
    from talkinghead.models.mouth import build_torch

    w = {k: v.detach().numpy() * 0.0 for k, v in build_torch(ccfg).state_dict().items()}
    w["out.bias"][:] = bias  # logit `bias` everywhere
    m.closure = ClosureNet(ccfg, w)
    return m


def _speech(seed=3, seconds=2):
    rng = np.random.default_rng(seed)
    env = np.repeat(rng.uniform(0.05, 1, 10 * seconds), 1600)
    return (rng.standard_normal(16000 * seconds) * env).astype(np.float32)


def test_option_off_is_bit_identical_and_roundtrips(tmp_path):
    y = _speech()
    m = _mouth_with_closure(bias=4.0)
    with_net = m(y=y, sr=16000, fps=25.0)
    plain = MouthModel(m.config, m.weights)
    without = plain(y=y, sr=16000, fps=25.0)
    for f in ("zscore", "dof_z", "gate", "articulation", "landmarks", "mouth_open"):
        np.testing.assert_array_equal(getattr(with_net, f), getattr(without, f), err_msg=f)
    assert with_net.closure is None
    m.config.closure_gain = 0.0  # 0 is off too
    np.testing.assert_array_equal(m(y=y, sr=16000, fps=25.0).landmarks, without.landmarks)
    m.config.closure_gain = 1.5
    m.save_pretrained(tmp_path / "ck", half=False)
    m2 = MouthModel.from_pretrained(tmp_path / "ck")
    assert m2.config.closure_gain == 1.5 and m2.config.closure_net["n_out"] == 1
    x = np.random.default_rng(0).standard_normal((40, 80)).astype(np.float32)
    np.testing.assert_allclose(m2.closure_prob(x), m.closure_prob(x), atol=1e-6)
    np.testing.assert_array_equal(m2(y=y, sr=16000, fps=25.0).landmarks,
                                  m(y=y, sr=16000, fps=25.0).landmarks)  # fmt: skip
    # a checkpoint that turns the option on without the classifier's weights is refused
    m.closure = None
    m.save_pretrained(tmp_path / "bad", half=False)
    with pytest.raises(CheckpointError, match="closure"):
        MouthModel.from_pretrained(tmp_path / "bad")
    with pytest.raises(InvalidArgumentError, match="closure_gain"):
        MouthConfig(closure_gain=-1)


def test_closure_reaches_every_export():
    from talkinghead.face.arkit import ARKIT_INDEX
    from talkinghead.models.blendshape_bridge import articulation_to_blendshapes
    from talkinghead.models.shipped import animate_samples

    y = _speech(seconds=3)
    m = _mouth_with_closure(bias=6.0)  # p ~ 1 everywhere: closed lips wherever there is speech
    open_ = animate_samples(y, sr=16000, fps=25.0, net=MouthModel(m.config, m.weights))
    m.config.closure_gain = 1.0
    shut = animate_samples(y, sr=16000, fps=25.0, net=m)
    r = m(y=y, sr=16000, fps=25.0)
    speech = r.gate > 0.99
    assert speech.sum() > 20 and np.all(r.closure[speech] > 0.99)
    assert np.all(r.closure[r.gate == 0] == 0)  # silence keeps its rest
    a0, a1 = np.asarray(open_.articulation), np.asarray(shut.articulation)
    assert a0[speech, 0].max() > 0.02 and a1[speech, 0].max() < 1e-3  # jaw_open
    assert np.all(a1[speech, 3] > 0.99)  # lip_close
    # 68 points: the inner lips meet; mouth_open (what the evaluation reads) falls
    assert (
        np.asarray(open_.mouth_open)[speech].mean()
        > 5 * np.asarray(shut.mouth_open)[speech].mean() + 1e-6
    )
    # the blendshapes of every 3D export read the same articulation
    b0, b1 = articulation_to_blendshapes(a0), articulation_to_blendshapes(a1)
    jo, mc = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthClose"]
    assert b1[speech, jo].max() < 0.5 * b0[speech, jo].max()
    assert b1[speech, mc].mean() > b0[speech, mc].mean()


def test_closure_threshold_and_lead_shape_the_classifier_output():
    from talkinghead.models.mouth import build_torch

    m = _mouth_with_closure(bias=0.0)
    torch.manual_seed(2)  # a classifier whose p varies from row to row
    w = {k: v.detach().numpy() * 3.0 for k, v in build_torch(m.closure.config).state_dict().items()}
    m.closure = ClosureNet(m.closure.config, w)
    x = np.random.default_rng(1).standard_normal((60, 80)).astype(np.float32)
    p = m.closure_prob(x)
    m.config.closure_gain = 1.0
    np.testing.assert_array_equal(m.closure_strength(x), p)  # defaults: p itself
    m.config.closure_threshold = 0.5
    np.testing.assert_allclose(m.closure_strength(x), np.clip((p - 0.5) / 0.5, 0, 1))
    m.config.closure_threshold, m.config.closure_lead = 0.0, 3
    q = m.closure_strength(x)
    np.testing.assert_array_equal(q[:-3], p[3:])  # 3 rows (60 ms) earlier
    np.testing.assert_array_equal(q[-3:], np.full(3, p[-1]))
    # the lead reaches the drawn mouth: with it the lips close earlier, never elsewhere
    y = _speech()
    m.config.closure_lead = 0
    late = m(y=y, sr=16000, fps=25.0)
    m.config.closure_lead = 5
    early = m(y=y, sr=16000, fps=25.0)
    assert not np.array_equal(late.mouth_open, early.mouth_open)
    for bad in ({"closure_threshold": 1.0}, {"closure_threshold": -0.1}, {"closure_lead": 11},
                {"closure_lead": 1.5}):  # fmt: skip
        with pytest.raises(InvalidArgumentError, match=next(iter(bad))):
            MouthConfig(**bad)


def test_whisper_closure_frontend_standardises_roundtrips_and_reads_the_audio(tmp_path):
    pytest.importorskip("ctranslate2")
    from talkinghead.models.mouth import build_torch

    rng = np.random.default_rng(4)
    ccfg = closure_config(384, channels=8, dilations=[1, 2])
    torch.manual_seed(3)
    w = {k: v.detach().numpy() * 3.0 for k, v in build_torch(ccfg).state_dict().items()}
    mean, scale = rng.standard_normal(384).astype(np.float32), rng.uniform(0.5, 2, 384)
    net = ClosureNet(ccfg, w, in_mean=mean, in_scale=scale)
    frames = rng.standard_normal((30, 384)).astype(np.float32) * 3 + 1
    z = (frames - frames.mean(0)) / (frames.std(0) + 1e-6)
    np.testing.assert_allclose(net.standardize(frames), (z - mean) / scale, rtol=1e-5, atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="in_mean and in_scale"):
        ClosureNet(ccfg, w, in_mean=mean)
    with pytest.raises(InvalidArgumentError, match=r"in_scale.shape"):
        ClosureNet(ccfg, w, in_mean=mean, in_scale=scale[:10])
    m = _mouth_with_closure(bias=0.0)
    m.config.closure_frontend = "whisper"
    with pytest.raises(InvalidArgumentError, match="in_mean"):
        MouthModel(m.config, m.weights, closure=m.closure)  # a features classifier
    m = MouthModel(m.config, m.weights, closure=net)
    y = _speech()
    off = MouthModel(m.config, m.weights)(y=y, sr=16000, fps=25.0)
    m.config.closure_gain = 1.0
    with pytest.raises(InvalidArgumentError, match="y16=None"):
        m.closure_prob(np.zeros((10, 80), np.float32))
    on = m(y=y, sr=16000, fps=25.0)
    assert on.closure is not None and on.closure.max() > 0
    assert not np.array_equal(on.mouth_open, off.mouth_open)
    m.save_pretrained(tmp_path / "ck", half=False)
    m2 = MouthModel.from_pretrained(tmp_path / "ck")
    assert m2.config.closure_frontend == "whisper"
    np.testing.assert_array_equal(m2.closure.in_mean, net.in_mean)
    np.testing.assert_allclose(m2(y=y, sr=16000, fps=25.0).mouth_open, on.mouth_open, atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="closure_frontend"):
        MouthConfig(closure_frontend="mel")
