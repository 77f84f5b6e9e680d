"""sakurai2018 / fan2015 with ``target="aam"`` on the prepared GRID slice (real clips)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from prepared_slice import build_prepared_slice  # noqa: E402
from talkinghead.errors import InvalidArgumentError  # noqa: E402
from talkinghead.recipes import get_recipe  # noqa: E402
from talkinghead.recipes.sakurai2018 import (  # noqa: E402
    AAM_FILE,
    Sakurai2018,
    clip_frames,
    load_aam_model,
)
from talkinghead.render.aam_video import render_code_video  # noqa: E402
from talkinghead.training.data import load_clips  # noqa: E402
from talkinghead.training.trainer import TrainConfig, train  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shared_data):
    torch.set_num_threads(1)
    corpus = build_prepared_slice(tmp_path_factory, shared_data)
    out = tmp_path_factory.mktemp("aam_model")
    recipe = Sakurai2018(target="aam")
    res = train(recipe, corpus, out, TrainConfig(epochs=2, batch_size=4), log=None)
    return corpus, out, recipe, res


def test_aam_targets_are_16d_codes(trained):
    corpus, _, recipe, _ = trained
    assert recipe.aam is not None
    assert (recipe.aam.n_shape, recipe.aam.n_appearance) == (8, 8)
    clip = load_clips(corpus, "all")[0]
    y, valid = recipe.targets(clip)
    assert y.shape == (clip.n_frames, 16) and y.dtype == np.float32
    assert valid.sum() > 0.9 * clip.n_frames
    assert np.isfinite(y).all()
    # the code moves: shape and appearance parameters vary over the clip
    assert (y[valid].std(axis=0) > 0).all()


def test_train_saves_and_reloads_the_aam(trained):
    _, out, recipe, res = trained
    assert res.epochs_done == 2 and np.isfinite(res.best_valid_loss)
    log = [json.loads(s) for s in (out / "training_log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["valid_loss"]) for r in log)
    assert log[-1]["best_valid_loss"] <= log[0]["valid_loss"]
    assert (out / AAM_FILE).is_file() and (out / "last" / AAM_FILE).is_file()
    model, loaded = load_aam_model(out)
    assert loaded.target == "aam" and loaded.aam.n_code == 16
    np.testing.assert_allclose(loaded.aam.mean_texture, recipe.aam.mean_texture)
    np.testing.assert_allclose(loaded.aam.shape_components, recipe.aam.shape_components)
    assert model.target_transform.dim == 16
    # the AAM's explained variance is reported with the checkpoint (paper: 0.980 / 0.799)
    ratio = model.meta["recipe_state"]["aam_variance_ratio"]
    assert ratio == recipe.aam_variance_ratio()
    assert 0 < ratio["appearance"] < ratio["shape"] <= 1 and ratio["n_shape"] == 8
    assert ratio["shape"] == round(float(recipe.aam.shape_variance_ratio), 4)


def test_resume_reloads_the_aam(trained, tmp_path):
    corpus, out, _, _ = trained
    r = Sakurai2018(target="aam")
    res = train(r, corpus, out, TrainConfig(epochs=3, batch_size=4), log=None)  # resumes
    assert res.epochs_done == 3 and r.aam is not None and r.aam.n_code == 16


def test_decoded_prediction_resembles_the_real_face(trained, tmp_path):
    corpus, out, _, _ = trained
    model, recipe = load_aam_model(out)
    clip = load_clips(corpus, "all")[0]
    frames = clip_frames(clip)
    lm = np.asarray(clip.array("landmarks68"), np.float64)
    codes = np.asarray(model.predict(recipe.inputs(clip)))
    assert codes.shape == (clip.n_frames, 16)
    grey = np.full_like(frames[0], 128)
    t = int(np.flatnonzero(clip.valid)[len(frames) // 2])
    img = recipe.decode_frames(codes[t : t + 2], grey, background_landmarks=lm[t])
    assert img.shape == (2, *frames[0].shape) and img.dtype == np.uint8
    # face region (landmark bounding box) of the rendering vs the real frame
    x0, y0 = np.floor(lm[t].min(axis=0)).astype(int)
    x1, y1 = np.ceil(lm[t].max(axis=0)).astype(int)
    true_code = recipe.aam.encode(frames[t], lm[t])
    rec = recipe.decode_frames(true_code[None], grey, background_landmarks=lm[t])[0]

    def r(x):
        a = x[y0:y1, x0:x1].astype(float).mean(axis=2).ravel()
        return np.corrcoef(a, frames[t, y0:y1, x0:x1].astype(float).mean(axis=2).ravel())[0, 1]

    assert r(rec) > 0.5  # 8 + 8 parameters, 4 speakers: a coarse but real reconstruction
    assert r(img[0]) > 0.2  # a 2-epoch prediction already resembles it
    print("face-region r: true code", r(rec), "prediction", r(img[0]))
    assert (img[0, :5, :5] == 128).all()  # outside the face: the background
    mp4 = render_code_video(
        tmp_path / "pred.mp4", recipe.aam, codes[:10], frames[0], fps=clip.fps,
        audio=np.zeros(int(0.4 * 16000), np.float32), sr=16000, background_landmarks=lm[0],
    )  # fmt: skip
    from talkinghead.video.io import probe_video

    info = probe_video(mp4)
    assert info.n_frames == 10 and (info.width, info.height) == (frames.shape[2], frames.shape[1])


def test_target_option():
    with pytest.raises(InvalidArgumentError, match="target="):
        Sakurai2018(target="pixels")
    # the AAM code is the default, as in the papers (Sakurai: 8 + 8; Fan: AAM parameters)
    for name in ("sakurai2018", "fan2015", "sakurai2018_baseline"):
        r = get_recipe(name)
        assert r.target == "aam" and r.state()["target"] == "aam"
    shape = get_recipe("sakurai2018", target="shape")
    assert shape.target == "shape" and "target" not in shape.state()
    shape.load_state({"ref": None})  # a checkpoint saved without a target: shape codes
    assert shape.target == "shape"


def test_evaluate_scores_an_aam_code_model(trained):
    from talkinghead.evaluate.run import evaluate

    corpus, out = trained[0], trained[1]
    res = evaluate(out, corpus, split="all", baselines=False)
    rows = [r for r in res.rows if r["system"] == "model"]
    assert rows and all(np.isfinite(r["mouth_r"]) for r in rows)
    # Sakurai's CORR and Pham's error on the 16 standardised AAM codes vs the true codes
    agg = res.aggregates()["model"]
    assert -1 <= agg["sakurai_corr"]["pooled"] <= 1 and agg["sakurai_corr"]["frames"] > 0
    assert np.isfinite(agg["pham_param_error"]["pooled"])


def test_render_the_trained_aam_checkpoint_from_speech(trained, shared_data, tmp_path):
    from talkinghead.cli import main
    from talkinghead.recipes.synthesis import synthesize
    from talkinghead.video.io import probe_video

    _, out, recipe, _ = trained
    speech = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    mp4 = tmp_path / "aam.mp4"
    assert main(["-q", "render", str(out), str(speech), "-o", str(mp4), "--size", "128"]) == 0
    from talkinghead.audio.io import load_audio

    y, sr = load_audio(speech, sr=16000)
    n = round(len(y) / sr * 25)
    info = probe_video(mp4)
    assert info.n_frames == n and info.has_audio and info.width == 128
    s = synthesize(out, y=y, sr=sr)
    assert s.kind == "aam" and s.codes.shape == (n, 16) and s.landmarks.shape == (n, 68, 2)


def test_fan2015_fits_a_lower_face_aam(trained, tmp_path):
    """Fan 2015's default code: an AAM of the 42 lower-face landmarks, 8 + 8 parameters,
    its variance ratios in the checkpoint; the older full-face AAM stays available."""
    from talkinghead.face.aam import LOWER_FACE_OUTLINE
    from talkinghead.recipes.fan2015 import Fan2015
    from talkinghead.recipes.shape import LOWER_FACE_68

    corpus = trained[0]
    r = Fan2015()
    assert (r.aam_region, r.aam_points, r.aam_outline) == (
        "lower",
        LOWER_FACE_68,
        LOWER_FACE_OUTLINE,
    )
    res = train(r, corpus, tmp_path / "fan", TrainConfig(epochs=1, batch_size=4), log=None)
    assert np.isfinite(res.best_valid_loss)
    assert r.aam.points == tuple(sorted(LOWER_FACE_68)) and r.aam.n_code == 16
    ratio = r.aam_variance_ratio()
    assert ratio["n_points"] == 42 and 0 < ratio["appearance"] <= 1 and 0 < ratio["shape"] <= 1
    model, loaded = load_aam_model(tmp_path / "fan")
    assert model.meta["recipe_state"]["aam_region"] == "lower"
    assert model.meta["recipe_state"]["aam_variance_ratio"] == ratio
    assert loaded.aam.points == r.aam.points and loaded.aam_points == LOWER_FACE_68
    clip = load_clips(corpus, "all")[0]
    y, valid = loaded.targets(clip)
    assert y.shape == (clip.n_frames, 16) and np.isfinite(y[valid]).all()
    # a checkpoint state without a region (trained before the option): the full face
    old = Fan2015()
    old.load_state({"ref": None, "target": "aam"})
    assert old.aam_region == "full" and old.aam_points is None
    assert get_recipe("fan2015", aam_region="full").aam_points is None
    with pytest.raises(InvalidArgumentError, match="aam_region="):
        Fan2015(aam_region="upper")
