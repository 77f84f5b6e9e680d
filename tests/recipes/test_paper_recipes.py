"""Each recipe builds its inputs and targets from a real prepared GRID clip."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from prepared_slice import build_prepared_slice  # noqa: E402
from talkinghead.audio.phones import Phone, Word  # noqa: E402
from talkinghead.errors import DependencyError, InvalidArgumentError  # noqa: E402
from talkinghead.models.sequence import SequenceModel, count_parameters  # noqa: E402
from talkinghead.recipes import RECIPES, get_recipe  # noqa: E402
from talkinghead.recipes.fan2015 import contextual_labels, emotion_one_hot  # noqa: E402
from talkinghead.recipes.pham2017 import SVRBaseline, rotvec_to_quaternion_vector  # noqa: E402
from talkinghead.training.data import load_clips, shift_targets  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, shared_data):
    return load_clips(build_prepared_slice(tmp_path_factory, shared_data))


def _pham_targets(clip):
    # stand-in for fit3d: rotation from the tracker, lip aperture as one "weight"
    q = rotvec_to_quaternion_vector(clip.array("rotation"))
    return np.concatenate([q, np.nan_to_num(clip.array("lip_aperture"))[:, None]], axis=1)


@pytest.mark.parametrize(
    ("name", "kw", "dim", "layers"),
    [
        ("eskimez2018", {"delay_ms": 80}, 512, ["L256", "L256", "L256", "L136"]),
        ("sakurai2018", {"target": "shape"}, 40, ["B262", "B262"]),
        ("pham2017", {"target_fn": _pham_targets}, 537, ["L600", "L200"]),
        ("fan2015", {"target": "shape"}, 124, ["F256", "B256", "B256"]),
        ("sakurai2018_baseline", {"target": "shape"}, 131, ["B516", "B516"]),
    ],
)
def test_recipe_builds_inputs_targets_and_model(clips, name, kw, dim, layers):
    r = get_recipe(name, **kw)
    r.fit(clips, None)
    ys = [r.targets(c) for c in clips]
    tt = r.fit_target_transform([y for y, _ in ys], [m for _, m in ys])
    x = r.inputs(clips[0])
    y, m = ys[0]
    assert x.shape == (75, dim) and np.all(np.isfinite(x))
    assert len(y) == 75 and m.all() and np.all(np.isfinite(y))
    cfg = r.model_config(None, input_dim=dim, output_dim=tt.dim, delay_frames=r.delay_frames(25))
    assert cfg.layers == layers
    model = SequenceModel(cfg).eval()
    out = model(torch.from_numpy(x)[None])
    assert out.shape == (1, 75, tt.dim)
    # the codes reconstruct the targets (PCA keeps >= 98 % of the variance on these clips)
    rows = np.concatenate([yy for yy, _ in ys])
    rec = tt.decode(tt.encode(rows))
    err = np.sum((rec - rows) ** 2) / np.sum((rows - rows.mean(axis=0)) ** 2)
    assert err < 0.021


def test_sakurai_baseline_gives_unlabelled_clips_the_neutral_emotion(clips):
    import dataclasses

    from talkinghead.recipes.fan2015 import EMOTIONS

    # GRID recordings carry no emotion label (the slice labels its clips "neutral")
    c = dataclasses.replace(clips[0], emotion=None)
    r = get_recipe("sakurai2018_baseline")
    labelled = r.inputs(clips[0])
    emo = r.inputs(c)[:, -len(EMOTIONS) :]
    assert emo[:, EMOTIONS.index("neutral")].tolist() == [1.0] * c.n_frames
    assert emo.sum() == c.n_frames  # one-hot, never all zeros
    np.testing.assert_array_equal(r.inputs(c), labelled)  # = the clip labelled neutral
    r.missing_emotion = None
    assert r.inputs(c)[:, -len(EMOTIONS) :].sum() == 0


def test_eskimez_context_frames_as_the_authors():
    from talkinghead.recipes.eskimez2018 import add_context

    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    # row t = [x_t, x_{t-1}, x_{t-2}], rows before 0 repeat row 0 (train.py addContext)
    np.testing.assert_array_equal(
        add_context(x, 2),
        [[1, 10, 1, 10, 1, 10], [2, 20, 1, 10, 1, 10], [3, 30, 2, 20, 1, 10]],
    )
    np.testing.assert_array_equal(add_context(x, 0), x)
    r = get_recipe("eskimez2018")
    assert r.context_frames == 3 and r.state()["context_frames"] == 3
    r.load_state({"mean_shape": None})  # a checkpoint saved before the option
    assert r.context_frames == 0
    r.load_state({"mean_shape": None, "context_frames": 5})
    assert r.context_frames == 5
    with pytest.raises(InvalidArgumentError, match="context_frames"):
        get_recipe("eskimez2018", context_frames=-1)


def test_eskimez_lstm_cells_are_the_authors_keras_cells():
    from talkinghead.models.sequence import ActivationLSTM

    # train.py: LSTM(h_dim, activation='sigmoid', recurrent_dropout=0.2), Keras 2 gates
    r = get_recipe("eskimez2018")
    cfg = r.model_config(None, input_dim=512, output_dim=136)
    assert (cfg.cell_activation, cfg.gate_activation, cfg.recurrent_dropout) == (
        "sigmoid", "hard_sigmoid", 0.2,
    )  # fmt: skip
    assert all(isinstance(m, ActivationLSTM) for m in SequenceModel(cfg).layers)
    assert r.state()["lstm"] == "keras"
    torch_cells = get_recipe("eskimez2018", lstm="torch")
    cfg = torch_cells.model_config(None, input_dim=512, output_dim=136)
    assert all(isinstance(m, torch.nn.LSTM) for m in SequenceModel(cfg).layers)
    r.load_state({"mean_shape": None, "context_frames": 3})  # saved before the option
    assert r.lstm == "torch" and r.cell_activation == "tanh"
    with pytest.raises(InvalidArgumentError, match="lstm"):
        get_recipe("eskimez2018", lstm="gru")


def test_eskimez_targets_are_eye_pinned_and_delay_is_two_frames(clips):
    r = get_recipe("eskimez2018", delay_ms=80)
    assert r.delay_frames(25.0) == 2
    y, _ = r.targets(clips[0])  # before fit(): only the eyes are pinned
    lm = y.reshape(75, 68, 2)
    from talkinghead.face.landmarks68 import eye_centres_68

    assert np.allclose(eye_centres_68(lm[0]), [[-0.5, 0.0], [0.5, 0.0]], atol=1e-5)
    z, m = shift_targets(np.arange(5.0)[:, None], np.ones(5, bool), 2)
    assert z[:, 0].tolist() == [0, 0, 0, 1, 2]


def test_sakurai_bbf_is_about_600k_and_baseline_about_2_45m():
    r = get_recipe("sakurai2018")
    for topo in ("FBF", "BFF", "BBF"):
        n = count_parameters(SequenceModel(r.model_config(topo, input_dim=40, output_dim=16)))
        assert abs(n - 600_000) / 600_000 < 0.15, (topo, n)
    b = get_recipe("sakurai2018_baseline")
    n = count_parameters(SequenceModel(b.model_config("BBF", input_dim=131, output_dim=16)))
    assert abs(n - 2_450_000) / 2_450_000 < 0.15, n
    with pytest.raises(InvalidArgumentError, match="unidirectional"):
        get_recipe("sakurai2018", delay_ms=40).model_config("BBF", input_dim=40, output_dim=16,
                                                            delay_frames=1)  # fmt: skip
    assert set(RECIPES) >= {"eskimez2018", "sakurai2018", "pham2017", "fan2015"}


def test_pham_heads_schedule_and_quaternions():
    r = get_recipe("pham2017", target_fn=_pham_targets)
    cfg = r.model_config("net3", input_dim=537, output_dim=55)
    assert [h.activation for h in cfg.heads] == ["linear", "relu"] and cfg.layers == ["L600"] * 2
    lrs = [r.lr * r.lr_factor(e) for e in (0, 1, 2, 13, 14, 299)]
    assert np.allclose(lrs, [0.003, 0.003, 0.0015, 0.0015, 0.0003, 0.0003])
    # 90 degrees about z -> (0, 0, sin 45)
    assert np.allclose(rotvec_to_quaternion_vector([0, 0, np.pi / 2]), [0, 0, np.sqrt(0.5)])


def test_pham_default_targets_need_fit3d(clips):
    try:
        from talkinghead.face.fit3d import fit_blendshapes  # noqa: F401
    except ImportError:
        with pytest.raises(DependencyError, match="fit_blendshapes"):
            get_recipe("pham2017").targets(clips[0])
    else:
        y, m = get_recipe("pham2017").targets(clips[0])
        assert y.shape == (75, 55)


def test_svr_baseline_fits_a_linear_map(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6))
    w = rng.normal(size=(6, 2))
    y = x @ w + 0.5
    svr = SVRBaseline(subsample=2).fit(x, y)
    assert np.abs(svr.predict(x) - y).max() < 0.05
    svr.save(tmp_path / "svr.json")
    assert np.allclose(
        SVRBaseline.load(tmp_path / "svr.json").predict(x), svr.predict(x), atol=1e-5
    )


def test_contextual_labels_known_answer():
    phones = [Phone("SIL", 0.0, 0.2), Phone("B", 0.2, 0.3), Phone("IH", 0.3, 0.5),
              Phone("SIL", 0.5, 1.0)]  # fmt: skip
    words = [Word("bi", 0.2, 0.5)]
    x = contextual_labels(phones, n_frames=10, fps=10.0, words=words)
    assert x.shape == (10, 124)
    from talkinghead.recipes.fan2015 import PHONE_LABELS

    n = len(PHONE_LABELS)
    # frame 3 (t = 0.35 s): current IH, previous B, next SIL, halfway... 0.25 into IH
    assert PHONE_LABELS[int(np.argmax(x[3, :n]))] == "IH"
    assert PHONE_LABELS[int(np.argmax(x[3, n : 2 * n]))] == "B"
    assert PHONE_LABELS[int(np.argmax(x[3, 2 * n : 3 * n]))] == "SIL"
    assert np.allclose(x[3, 3 * n :], [0.25, 0.2, 0.5, 1.0])
    assert x[0, -1] == 0.0  # silence: not in a word
    assert emotion_one_hot("ANG", 2)[:, 4].tolist() == [1.0, 1.0]
    assert emotion_one_hot(None, 2).sum() == 0
