"""The mouth model's network: numpy inference = torch, causal look-ahead, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.errors import CheckpointError, InvalidArgumentError
from talkinghead.models.mouth import MouthConfig, MouthModel

torch = pytest.importorskip("torch")


def _model(lookahead=None, utterance_norm=True):
    torch.manual_seed(0)
    cfg = MouthConfig(
        frontend="mel", in_dim=80, channels=16, dilations=[1, 2, 4], lookahead=lookahead,
        utterance_norm=utterance_norm,
    )  # fmt: skip
    return MouthModel(cfg)


@pytest.mark.parametrize("lookahead", [None, 0, 5])
def test_numpy_inference_matches_torch(lookahead):
    m = _model(lookahead)
    x = np.random.default_rng(1).standard_normal((120, 80)).astype(np.float32)
    got = m.raw_outputs(x)
    xn = m.normalize(x)
    L = lookahead or 0
    xt = np.concatenate([xn, np.repeat(xn[-1:], L, 0)]).T[None].copy()
    m.net.eval()
    with torch.no_grad():
        want = m.net(torch.from_numpy(xt))[0].numpy().T[L:]
    assert got.shape == (120, 6)
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("lookahead", [0, 3, 10])
def test_causal_model_sees_only_lookahead_frames(lookahead):
    m = _model(lookahead, utterance_norm=False)
    x = np.random.default_rng(2).standard_normal((200, 80)).astype(np.float32)
    x2 = x.copy()
    x2[120:] += 3.0  # change the future from frame 120 on
    d = np.abs(m.raw_outputs(x) - m.raw_outputs(x2)).max(1)
    assert np.all(d[: 120 - lookahead] == 0)
    assert d[120 - lookahead] > 0


def test_offline_model_looks_both_ways():
    m = _model(None, utterance_norm=False)
    x = np.random.default_rng(3).standard_normal((200, 80)).astype(np.float32)
    x2 = x.copy()
    x2[120:] += 3.0
    d = np.abs(m.raw_outputs(x) - m.raw_outputs(x2)).max(1)
    span = m.config.receptive_past  # (k - 1) * sum(dilations) / 2 frames each way
    # the offline network runs Winograd tiles (_util/winograd.py): frames outside the
    # receptive field move by float32 rounding only (their tile mixes its inputs), inside
    # by the change
    assert d[: 120 - span].max() < 1e-6 * d.max() and d[120 - span] > 1e-3 * d.max()
    # the direct sum of products (what the causal, streaming models run) is exact
    from talkinghead.models.mouth import _forward_numpy

    xs = [np.ascontiguousarray(m.normalize(v).T) for v in (x, x2)]
    d0 = np.abs(
        _forward_numpy(m.weights, m.config, xs[0]) - _forward_numpy(m.weights, m.config, xs[1])
    ).max(0)
    assert d0[120 - span - 1] == 0 and d0[120 - span] > 0


def test_save_and_load_roundtrip(tmp_path):
    m = _model(2)
    m.calibration = np.stack([np.stack([np.linspace(-3, 3, 11), np.linspace(-2, 4, 11)])] * 6)
    m.save_pretrained(tmp_path / "ck", half=False)
    m2 = MouthModel.from_pretrained(tmp_path / "ck")
    assert m2.config == m.config and m2.dof_stats == m.dof_stats
    x = np.random.default_rng(4).standard_normal((50, 80)).astype(np.float32)
    np.testing.assert_allclose(m2.predict_dofs(x), m.predict_dofs(x), atol=1e-6)
    m.save_pretrained(tmp_path / "half")  # float16 weights
    d = np.abs(MouthModel.from_pretrained(tmp_path / "half").raw_outputs(x) - m.raw_outputs(x))
    assert d.max() < 0.02


def test_bad_checkpoints_and_configs(tmp_path):
    with pytest.raises(CheckpointError, match="config.json"):
        MouthModel.from_pretrained(tmp_path)
    with pytest.raises(InvalidArgumentError, match="frontend"):
        MouthConfig(frontend="nope")
    with pytest.raises(InvalidArgumentError, match="lookahead"):
        MouthConfig(lookahead=-1)
    with pytest.raises(InvalidArgumentError, match="student"):
        MouthModel(MouthConfig(frontend="student"))


def test_prior_channel_roundtrip(tmp_path):
    from talkinghead.models.default import FAST_DIR, DefaultModel
    from talkinghead.models.mouth import append_prior, prior_at_50hz

    ridge = DefaultModel.from_pretrained(FAST_DIR)
    prior = prior_at_50hz(ridge)
    assert prior.offsets == [2 * o for o in ridge.offsets]
    torch.manual_seed(0)
    cfg = MouthConfig(frontend="mel", in_dim=385, channels=8, dilations=[1], prior=True)
    with pytest.raises(InvalidArgumentError, match="prior"):
        MouthModel(cfg)
    m = MouthModel(cfg, prior=prior)
    x = np.random.default_rng(5).standard_normal((60, 384)).astype(np.float32)
    xp = append_prior(prior, x)
    assert xp.shape == (60, 385)
    np.testing.assert_array_equal(xp[:, :384], x)
    m.save_pretrained(tmp_path / "ck", half=False)
    m2 = MouthModel.from_pretrained(tmp_path / "ck")
    np.testing.assert_allclose(append_prior(m2.prior, x), xp, atol=1e-5)
    np.testing.assert_allclose(m2.raw_outputs(xp), m.raw_outputs(xp), atol=1e-5)


def test_open_calibration_roundtrip(tmp_path):
    m = _model(None)
    m.open_calibration = np.stack([np.linspace(-3, 3, 11), np.linspace(-2, 4, 11)])
    x = np.random.default_rng(6).standard_normal((50, 80)).astype(np.float32)
    m.save_pretrained(tmp_path / "ck", half=False)
    m2 = MouthModel.from_pretrained(tmp_path / "ck")
    np.testing.assert_allclose(m2.open_calibration, m.open_calibration, atol=1e-6)
    got = m2.predict_dofs(x)
    m2.open_calibration = None
    raw = m2.predict_dofs(x)
    np.testing.assert_allclose(got[:, 0], np.interp(raw[:, 0], *m.open_calibration), atol=1e-5)
    np.testing.assert_allclose(got[:, 1:], raw[:, 1:], atol=1e-6)  # the opening only
    with pytest.raises(InvalidArgumentError, match="open_calibration"):
        MouthModel(m.config, m.weights, open_calibration=np.zeros(5))
    with pytest.raises(InvalidArgumentError, match="gate_floor_db"):
        MouthConfig(gate_floor_db=0)


def test_close_dips_closes_clear_dips_only():
    from talkinghead.models.mouth import close_dips

    t = np.arange(60)
    x = np.full(60, 1.0)
    x[10:15] = [0.8, 0.2, -0.5, 0.2, 0.8]  # a deep, short dip (a /b/ the network hints at)
    x[40:45] = [0.9, 0.8, 0.7, 0.8, 0.9]  # a shallow one: left alone
    got = close_dips(x, depth=1.0, half_window=3, closed_z=-2.0)
    assert got[12] == -2.0 and got[11] == pytest.approx(0.5 * (0.2 - 2.0))
    np.testing.assert_array_equal(got[40:45], x[40:45])
    np.testing.assert_array_equal(np.delete(got, [11, 12, 13]), np.delete(x, [11, 12, 13]))
    assert np.all(got <= x)  # only ever closes
    smooth = np.sin(t / 30.0)  # slow movement: no dip within the window is deep enough
    np.testing.assert_array_equal(close_dips(smooth, depth=0.5, half_window=3, closed_z=-2), smooth)
    with pytest.raises(InvalidArgumentError, match="depth="):
        close_dips(x, depth=0, half_window=3, closed_z=-2.0)
    with pytest.raises(InvalidArgumentError, match="close_dips"):
        MouthConfig(close_dips=-1)


def test_close_dips_in_the_model_closes_the_drawn_lips():
    m = _model(None)
    rng = np.random.default_rng(3)
    y = (rng.standard_normal(16000 * 2) * np.repeat(rng.uniform(0.05, 1, 20), 1600)).astype(
        np.float32
    )
    m.config.frontend = "mel"
    a = m(y=y, sr=16000, fps=25.0)
    m.config.close_dips = 0.3
    b = m(y=y, sr=16000, fps=25.0)
    assert np.all(b.dof_z[:, 0] <= a.dof_z[:, 0] + 1e-6)
    np.testing.assert_allclose(b.dof_z[:, 1:], a.dof_z[:, 1:])
    closed = b.dof_z[:, 0] < a.dof_z[:, 0] - 1e-3
    assert closed.any()  # some dips were closed, and their drawn lips too
    assert np.all(b.mouth_open[closed] <= a.mouth_open[closed] + 1e-6)


def test_ensemble_fast_path_matches_the_direct_networks():
    from talkinghead.models.mouth import _forward_numpy

    nets = []
    for seed in range(3):
        torch.manual_seed(seed)
        cfg = MouthConfig(frontend="mel", in_dim=80, channels=16, dilations=[1, 2, 4, 8, 1])
        nets.append(MouthModel(cfg).weights)
    m = MouthModel(cfg, nets[0], members=nets[1:])
    x = np.random.default_rng(4).standard_normal((333, 80)).astype(np.float32)
    xn = m.normalize(x)
    xt = np.ascontiguousarray(xn.T)
    want = sum(_forward_numpy(w, cfg, xt) for w in nets).T / 3
    got = m.network(xn)
    assert got.shape == (333, 6) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())
    m.members = m.members[:1]  # replaced members: the stacked weights are rebuilt
    want2 = sum(_forward_numpy(w, cfg, xt) for w in nets[:2]).T / 2
    np.testing.assert_allclose(m.network(xn), want2, rtol=0, atol=1e-5 * np.abs(want2).max())
