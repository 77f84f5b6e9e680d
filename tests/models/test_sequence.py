"""SequenceModel: topology, parameter counts, heads, persistence, streaming."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from talkinghead.audio.normalize import FeatureNormalizer  # noqa: E402
from talkinghead.errors import CheckpointError, InvalidArgumentError  # noqa: E402
from talkinghead.models.sequence import (  # noqa: E402
    SequenceModel,
    SequenceModelConfig,
    TargetTransform,
    count_parameters,
    parse_layer,
)

torch.set_num_threads(1)


def _model(layers, *, heads=(), output_dim=5, input_dim=7, delay=0, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    cfg = SequenceModelConfig(
        input_dim=input_dim,
        output_dim=output_dim,
        layers=list(layers),
        dropout=dropout,
        heads=list(heads),
        delay_frames=delay,
    )
    return SequenceModel(cfg).eval()


@pytest.mark.parametrize(
    ("layers", "units"),
    [(["F312", "B312"], 312), (["B418", "F418"], 418), (["B262", "B262"], 262)],
)
def test_sakurai_topologies_have_about_600k_parameters(layers, units):
    # Sakurai et al. 2018: 40-d input, 16-d face code (8 shape + 8 appearance), ~600k
    m = _model(layers, input_dim=40, output_dim=16)
    n = count_parameters(m)
    assert abs(n - 600_000) / 600_000 < 0.15, n
    # the BLSTM's "units" are its concatenated output: half per direction
    lstm = [mod for mod in m.layers if isinstance(mod, torch.nn.LSTM)][0]
    assert lstm.hidden_size == units // 2 and lstm.bidirectional


def test_output_shapes_and_relu_head_is_nonnegative():
    m = _model(["L16", "F8"], heads=[("rotation", 3, "linear"), ("expr", 6, "relu")], output_dim=9)
    x = torch.randn(2, 13, 7) * 5
    y = m(x)
    assert y.shape == (2, 13, 9)
    parts = m.split_heads(y)
    assert parts["rotation"].shape == (2, 13, 3) and parts["expr"].shape == (2, 13, 6)
    assert torch.all(parts["expr"] >= 0) and torch.any(parts["expr"] > 0)
    assert torch.any(parts["rotation"] < 0)  # the linear head is not clipped


def test_config_validation():
    with pytest.raises(InvalidArgumentError, match="even"):
        parse_layer("B5")
    with pytest.raises(InvalidArgumentError, match="F<n>"):
        parse_layer("X10")
    with pytest.raises(InvalidArgumentError, match="sum of the head dims"):
        SequenceModelConfig(input_dim=3, output_dim=4, layers=["L4"], heads=[("a", 3, "linear")])
    with pytest.raises(InvalidArgumentError, match="one per layer"):
        SequenceModelConfig(input_dim=3, output_dim=4, layers=["L4"], dropout=[0.1, 0.2])
    with pytest.raises(InvalidArgumentError, match="activation"):
        SequenceModelConfig(input_dim=3, output_dim=4, heads=[("a", 4, "tanh")])


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    m = _model(["F6", "B8", "L4"], heads=[("a", 2, "linear"), ("b", 3, "relu")], delay=2)
    rng = np.random.default_rng(0)
    m.normalizer = FeatureNormalizer(mean=rng.normal(size=7), std=rng.uniform(0.5, 2, 7))
    m.target_transform = TargetTransform(
        mean=rng.normal(size=5),
        scale=rng.uniform(0.5, 2, 5),
        basis=np.linalg.qr(rng.normal(size=(9, 5)))[0].T,
        basis_mean=rng.normal(size=9),
    )
    m.meta = {"recipe": "test", "fps": 25.0}
    m.save_pretrained(tmp_path / "ckpt")
    assert {p.name for p in (tmp_path / "ckpt").iterdir()} == {
        "config.json",
        "model.safetensors",
        "normalizer.json",
        "target.safetensors",
    }
    m2 = SequenceModel.from_pretrained(tmp_path / "ckpt")
    assert m2.meta == m.meta and m2.config.to_dict() == m.config.to_dict()
    x = torch.randn(3, 11, 7)
    assert torch.equal(m(x), m2(x))
    xn = rng.normal(size=(20, 7)).astype(np.float32)
    p1, p2 = m.predict(xn), m2.predict(xn)
    assert p1.shape == (20, 9) and np.array_equal(p1, p2)
    # encode inverts decode on the PCA subspace
    z = rng.normal(size=(4, 5))
    assert np.allclose(m2.target_transform.encode(m2.target_transform.decode(z)), z, atol=1e-5)


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(CheckpointError, match="config.json"):
        SequenceModel.from_pretrained(tmp_path)
    m = _model(["L4"])
    m.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["config"]["layers"] = ["L5"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not match"):
        SequenceModel.from_pretrained(tmp_path)


@pytest.mark.parametrize("layers", [["L8", "L6"], ["F5", "L8", "F4"]])
def test_chunked_forward_equals_full_forward(layers):
    m = _model(layers, dropout=0.3)  # eval(): dropout off
    x = torch.randn(2, 23, 7)
    full = m(x)
    state = m.init_state(2)
    outs = []
    for a, b in [(0, 1), (1, 6), (6, 7), (7, 23)]:
        y, state = m.forward_chunk(x[:, a:b], state)
        outs.append(y)
    assert torch.allclose(torch.cat(outs, dim=1), full, atol=1e-6)


def test_bidirectional_model_refuses_streaming():
    m = _model(["B8"])
    with pytest.raises(InvalidArgumentError, match="BLSTM"):
        m.init_state(1)


def test_predict_compensates_the_delay():
    # With delay d the raw output at step t + d is frame t: predict() returns T rows
    # equal to the raw forward on x padded with d zero frames, shifted by d.
    m = _model(["L8"], delay=3)
    x = np.random.default_rng(1).normal(size=(10, 7)).astype(np.float32)
    p = m.predict(x)
    xp = np.concatenate([x, np.zeros((3, 7), np.float32)])
    raw = m(torch.from_numpy(xp)[None])[0].detach().numpy()
    assert p.shape == (10, 5) and np.allclose(p, raw[3:], atol=1e-6)


def test_lengths_make_blstm_ignore_padding():
    m = _model(["B8"])
    x = torch.randn(1, 9, 7)
    short = m(x[:, :6])
    padded = torch.cat([x[:, :6], torch.full((1, 3, 7), 50.0)], dim=1)
    out = m(padded, lengths=torch.tensor([6]))
    assert torch.allclose(out[:, :6], short, atol=1e-6)


def test_activation_lstm_with_tanh_cells_equals_nn_lstm():
    from talkinghead.models.sequence import ActivationLSTM

    torch.manual_seed(3)
    ref = torch.nn.LSTM(7, 5, batch_first=True)
    mine = ActivationLSTM(7, 5)
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(2, 11, 7)
    y_ref, (h_ref, c_ref) = ref(x)
    y, (h, c) = mine(x)
    assert torch.allclose(y, y_ref, atol=1e-6) and torch.allclose(c, c_ref, atol=1e-6)
    assert h.shape == h_ref.shape == (1, 2, 5)


def test_keras_sigmoid_cell_one_step_known_answer():
    # One unit, one input, Keras LSTM(activation='sigmoid', recurrent_activation=
    # 'hard_sigmoid'): all weights 1, biases 0, x = 1, h = c = 0:
    # z = 1 for every gate; gates = clip(0.2 + 0.5) = 0.7; g = sigmoid(1) = 0.731059
    # c' = 0.7 * 0.731059 = 0.511741; h' = 0.7 * sigmoid(0.511741) = 0.7 * 0.625213
    from talkinghead.models.sequence import ActivationLSTM

    m = ActivationLSTM(1, 1, cell_activation="sigmoid", gate_activation="hard_sigmoid")
    with torch.no_grad():
        m.weight_ih_l0.fill_(1.0)
        m.weight_hh_l0.fill_(0.0)
        m.bias_ih_l0.zero_()
        m.bias_hh_l0.zero_()
    with torch.no_grad():
        y, (h, c) = m(torch.ones(1, 1, 1))
    assert abs(c.item() - 0.7 * 0.7310586) < 1e-6
    assert abs(h.item() - 0.7 * 0.6252134) < 1e-6
    # the output of a sigmoid cell is in (0, 1): never negative, unlike tanh
    with torch.no_grad():
        y, _ = m(torch.randn(1, 50, 1) * 10)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_sigmoid_cell_model_streams_saves_and_keeps_its_activations(tmp_path):
    torch.manual_seed(0)
    cfg = SequenceModelConfig(
        input_dim=7, output_dim=5, layers=["L8", "L6"], cell_activation="sigmoid",
        gate_activation="hard_sigmoid", recurrent_dropout=0.2,
    )  # fmt: skip
    m = SequenceModel(cfg).eval()
    x = torch.randn(2, 17, 7)
    full = m(x)
    state = m.init_state(2)
    outs = []
    for a, b in [(0, 1), (1, 9), (9, 17)]:
        y, state = m.forward_chunk(x[:, a:b], state)
        outs.append(y)
    assert torch.allclose(torch.cat(outs, dim=1), full, atol=1e-6)
    m.save_pretrained(tmp_path)
    m2 = SequenceModel.from_pretrained(tmp_path)
    assert m2.config.cell_activation == "sigmoid" and m2.config.gate_activation == "hard_sigmoid"
    assert torch.allclose(m2(x), full, atol=1e-6)
    # recurrent dropout only while training: two train-mode passes differ
    m.train()
    assert not torch.allclose(m(x), m(x))
    with pytest.raises(InvalidArgumentError, match="cell_activation"):
        SequenceModelConfig(input_dim=3, output_dim=2, layers=["L4"], cell_activation="relu")
    with pytest.raises(InvalidArgumentError, match="BLSTM"):
        SequenceModelConfig(input_dim=3, output_dim=2, layers=["B4"], cell_activation="sigmoid")
