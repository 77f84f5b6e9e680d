"""The mouth recipe on a real tracked GRID clip: cache, targets, a short seeded resumable run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from talkinghead.errors import InvalidArgumentError  # noqa: E402
from talkinghead.models.mouth import MouthConfig, MouthModel, mel_frames  # noqa: E402
from talkinghead.recipes.mouth import (  # noqa: E402
    cache_clip,
    evaluate_clip,
    fit_calibration,
    load_cached,
    targets_50hz,
    train_mouth,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CLIP = DATA / "grid_s1" / "video" / "pbiu8n.mp4"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    if not CLIP.is_file():
        pytest.skip(f"real GRID clip not found at {CLIP}")
    pytest.importorskip("mediapipe")
    from talkinghead.audio.io import load_audio
    from talkinghead.evaluate.truth import track_mesh

    mesh, valid, fps = track_mesh(CLIP)
    y, _ = load_audio(CLIP, sr=16000)
    cache = tmp_path_factory.mktemp("cache")
    c = cache_clip(clip_id="grid_s1/pbiu8n", y16=y, mesh=mesh, valid=valid, fps=fps,
                   frontend=mel_frames, cache_dir=cache, speaker="s1", group="GRID")  # fmt: skip
    return c, cache


def test_cache_and_targets(clip):
    c, cache = clip
    assert c.feats.shape[1] == 80 and c.feats.dtype == np.float16
    assert abs(len(c.feats) / 50.0 - len(c.dofs) / c.fps) < 0.05  # same duration
    again = load_cached(next(cache.glob("*.npz")), speaker="s1")
    np.testing.assert_array_equal(again.dofs, c.dofs)
    z, m = targets_50hz(c)
    assert z.shape == (len(c.feats), 6) and m.mean() > 0.9
    ok = m[:, 0] > 0
    assert abs(z[ok, 0].mean()) < 0.1 and 0.8 < z[ok, 0].std() < 1.2  # per-clip z-scores
    assert c.silent.shape == (len(c.dofs),) and c.silent[20:60].mean() < 0.2  # speech


def test_short_run_learns_resumes_and_loads(clip, tmp_path):
    c, _ = clip
    cfg = MouthConfig(frontend="mel", in_dim=80, channels=16, dilations=[1, 2, 4])
    kw = dict(config=cfg, out_dir=tmp_path / "work", batch=4, crop_s=2.0, seed=0, save_every=20)
    m1 = train_mouth([c], steps=40, **kw)
    r = evaluate_clip(m1, c)
    assert r["open"] > 0.3  # fits its training clip (not a held-out score)
    assert (tmp_path / "work" / "last").is_dir()
    # resuming at the end does no more steps and gives the same weights
    m2 = train_mouth([c], steps=40, **kw)
    for k in m1.weights:
        np.testing.assert_allclose(m1.weights[k], m2.weights[k], atol=1e-6)
    m1.calibration = fit_calibration(m1, [c])
    assert m1.calibration.shape == (6, 2, 101)
    assert np.all(np.diff(m1.calibration[:, 0], axis=1) > 0)
    m1.save_pretrained(tmp_path / "ck")
    m3 = MouthModel.from_pretrained(tmp_path / "ck")
    x = c.feats.astype(np.float32)
    np.testing.assert_allclose(m3.predict_dofs(x), m1.predict_dofs(x), atol=0.05)


def test_crop_corr_loss_known_answers():
    from talkinghead.recipes.mouth import crop_corr_loss

    g = torch.Generator().manual_seed(0)
    t = torch.randn(3, 2, 50, generator=g)
    m = torch.ones_like(t)
    w = torch.ones(1, 2)
    # scale- and offset-free: any positive affine map of the target scores 0, its negation 2
    assert float(crop_corr_loss(3.0 * t + 1.5, t, m, w)) == pytest.approx(0.0, abs=1e-5)
    assert float(crop_corr_loss(-t, t, m, w)) == pytest.approx(2.0, abs=1e-5)
    # masked frames do not count: garbage there changes nothing
    m2 = m.clone()
    m2[..., 40:] = 0
    noisy = t.clone()
    noisy[..., 40:] = 100.0 * torch.randn(3, 2, 10, generator=g)
    assert float(crop_corr_loss(noisy, t, m2, w)) == pytest.approx(0.0, abs=1e-5)
    # the DOF weights: a wrong DOF with weight 0 is ignored, with weight 1 it counts half
    wrong = torch.stack([t[:, 0], -t[:, 1]], dim=1)
    only_first = torch.tensor([[1.0, 0.0]])
    assert float(crop_corr_loss(wrong, t, m, only_first)) == pytest.approx(0.0, abs=1e-5)
    assert float(crop_corr_loss(wrong, t, m, w)) == pytest.approx(1.0, abs=1e-5)
    # crops with too few valid frames are left out (none left: 0)
    assert float(crop_corr_loss(-t, t, torch.zeros_like(t), w)) == 0.0
    # against an explicit Pearson r on one crop
    o = torch.randn(1, 1, 50, generator=g)
    r = np.corrcoef(o[0, 0].numpy(), t[0, 0].numpy())[0, 1]
    got = float(crop_corr_loss(o, t[:1, :1], m[:1, :1], w[:, :1]))
    assert got == pytest.approx(1.0 - r, abs=1e-5)


def test_corr_loss_run_learns(clip, tmp_path):
    c, _ = clip
    cfg = MouthConfig(frontend="mel", in_dim=80, channels=16, dilations=[1, 2, 4])
    m = train_mouth([c], config=cfg, out_dir=tmp_path / "w", steps=40, batch=4, crop_s=2.0,
                    seed=0, loss="corr")  # fmt: skip
    assert m.meta["loss"] == "corr"
    m.calibration = fit_calibration(m, [c])
    assert evaluate_clip(m, c)["open"] > 0.3  # fits its training clip (not a held-out score)
    with pytest.raises(Exception, match="loss='l1' must be one of"):
        train_mouth([c], config=cfg, out_dir=tmp_path / "w2", steps=1, loss="l1")


def test_affine_calibration_keeps_order_and_scale(clip, tmp_path):
    from talkinghead.recipes.mouth import affine_map

    rng = np.random.default_rng(0)
    p = rng.normal(3.0, 0.1, 500)
    t = 2.0 * (p - 3.0) / 0.1 + rng.normal(0, 0.01, 500)
    cal = affine_map(p, t)
    out = np.interp(p, *cal)
    assert np.corrcoef(out, p)[0, 1] == pytest.approx(1.0, abs=1e-12)  # a straight line
    assert out.std() == pytest.approx(t.std(), rel=1e-6) and abs(out.mean() - t.mean()) < 1e-6
    c, _ = clip
    cfg = MouthConfig(frontend="mel", in_dim=80, channels=8, dilations=[1])
    m = MouthModel(cfg)
    mixed = fit_calibration(m, [c], kind=["quantile"] + ["affine"] * 5)
    assert mixed.shape == (6, 2, 101) and np.all(np.diff(mixed[:, 0], axis=1) > 0)
    raw = m.raw_outputs(c.feats.astype(np.float32))
    m.calibration = mixed
    got = m.predict_dofs(c.feats.astype(np.float32))
    for k in range(1, 6):  # affine DOFs: perfectly correlated with the raw outputs
        assert np.corrcoef(got[:, k], raw[:, k])[0, 1] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(Exception, match="must be one of"):
        fit_calibration(m, [c], kind="isotonic")


def test_ensemble_averages_members_and_round_trips(clip, tmp_path):
    from talkinghead.recipes.mouth import ensemble_of

    c, _ = clip
    cfg = MouthConfig(frontend="mel", in_dim=80, channels=8, dilations=[1, 2])
    kw = dict(config=cfg, steps=4, batch=2, crop_s=1.0)
    a = train_mouth([c], out_dir=tmp_path / "a", seed=0, **kw)
    b = train_mouth([c], out_dir=tmp_path / "b", seed=1, **kw)
    x = c.feats.astype(np.float32)
    ra, rb = a.raw_outputs(x), b.raw_outputs(x)
    assert np.abs(ra - rb).max() > 1e-3  # two different networks
    e = ensemble_of([a, b])
    assert e.meta["ensemble"] == 2 and len(e.members) == 1
    np.testing.assert_allclose(e.raw_outputs(x), 0.5 * (ra + rb), atol=1e-5)
    e.save_pretrained(tmp_path / "ens", half=False)
    back = MouthModel.from_pretrained(tmp_path / "ens")
    assert len(back.members) == 1
    np.testing.assert_allclose(back.raw_outputs(x), e.raw_outputs(x), atol=1e-5)
    # a single model is saved and loaded without members, as before
    a.save_pretrained(tmp_path / "one", half=False)
    assert MouthModel.from_pretrained(tmp_path / "one").members == []
    other = train_mouth([c], out_dir=tmp_path / "c", seed=0, **{**kw, "config": MouthConfig(
        frontend="mel", in_dim=80, channels=4, dilations=[1, 2])})  # fmt: skip
    with pytest.raises(Exception, match="must share the config"):
        ensemble_of([a, other])
    # a causal ensemble averages its members too (the server streams them all)
    causal = MouthConfig(frontend="mel", in_dim=80, channels=8, dilations=[1], lookahead=2)
    s1 = train_mouth([c], out_dir=tmp_path / "d", seed=0, **{**kw, "config": causal})
    s2 = train_mouth([c], out_dir=tmp_path / "e", seed=1, **{**kw, "config": causal})
    ec = ensemble_of([s1, s2])
    np.testing.assert_allclose(ec.raw_outputs(x), 0.5 * (s1.raw_outputs(x) + s2.raw_outputs(x)),
                               atol=1e-5)  # fmt: skip
    # mixed: a model trained on other clips (other feature statistics) joins through its own
    # standardisation, folded into its input convolution
    from dataclasses import replace

    c2 = replace(c, feats=(c.feats.astype(np.float32) * 1.5 + 0.3).astype(np.float16))
    raw = MouthConfig(frontend="mel", in_dim=80, channels=8, dilations=[1], lookahead=2,
                      utterance_norm=False)  # fmt: skip
    s4 = train_mouth([c], out_dir=tmp_path / "f", seed=0, **{**kw, "config": raw})
    s3 = train_mouth([c2], out_dir=tmp_path / "g", seed=2, **{**kw, "config": raw})
    assert np.abs(s3.feature_mean - s4.feature_mean).max() > 0.1
    with pytest.raises(Exception, match="must share the config"):
        ensemble_of([s4, s3])
    em = ensemble_of([s4, s3], mixed=True)
    np.testing.assert_allclose(em.raw_outputs(x), 0.5 * (s4.raw_outputs(x) + s3.raw_outputs(x)),
                               atol=1e-4)  # fmt: skip


def test_read_val_clips_from_a_checkpoint_config_or_a_list(tmp_path):
    import json

    from talkinghead.recipes.mouth import read_val_clips

    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "config.json").write_text(json.dumps({"meta": {"val_clips": ["a", "b/c"]}}))
    (tmp_path / "ids.json").write_text(json.dumps(["x", "y"]))
    assert read_val_clips(tmp_path / "ck") == ["a", "b/c"]
    assert read_val_clips(tmp_path / "ck" / "config.json") == ["a", "b/c"]
    assert read_val_clips(tmp_path / "ids.json") == ["x", "y"]
    shipped = Path(__file__).resolve().parents[2] / "scripts" / "mouth_v2_val_clips.json"
    assert len(read_val_clips(shipped)) == 59
    (tmp_path / "bad.json").write_text(json.dumps({"meta": {}}))
    with pytest.raises(InvalidArgumentError, match="path="):
        read_val_clips(tmp_path / "bad.json")
    with pytest.raises(InvalidArgumentError, match="path="):
        read_val_clips(tmp_path / "missing")


def test_closed_50hz_marks_closures_not_rests(clip):
    from talkinghead.evaluate.metrics import closed_frames
    from talkinghead.recipes.mouth import closed_50hz

    c, _ = clip
    cl = closed_50hz(c)
    assert cl.shape == (len(c.feats),) and cl.dtype == bool
    near = np.clip(np.round((np.arange(len(cl)) / 50.0 + 0.005) * c.fps).astype(int), 0,
                   len(c.dofs) - 1)  # fmt: skip
    rule = closed_frames(c.dofs[:, 0])
    # pbiu8n ("place blue in u 8 now"): closed at rest before and after the sentence (the
    # rule marks ~60 % of its frames), the closures inside it are a few frames
    assert rule.mean() > 0.5 and 0.02 < cl.mean() < 0.15
    assert rule[near[cl]].all() and not c.silent[near[cl]].any()
    assert not cl[:10].any() and not cl[-10:].any()  # the rests at the ends are left out
    # every kept run is short (<= 0.3 s) and bounded by open frames
    edges = np.flatnonzero(np.diff(np.r_[0, cl.astype(int), 0]))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        assert b - a <= 16 and not rule[near[a - 1]] and not rule[near[min(b, len(cl) - 1)]]
    z, m = targets_50hz(c)
    ok = m[:, 0] > 0
    open_speech = ok & ~rule[near]
    assert np.median(z[cl & ok, 0]) < np.median(z[open_speech, 0]) - 1.0  # at the floor


def test_close_weight_zero_is_the_recipe_and_positive_lowers_closed_error(clip, tmp_path):
    from talkinghead.recipes.mouth import closed_50hz

    c, _ = clip
    cfg = MouthConfig(frontend="mel", in_dim=80, channels=16, dilations=[1, 2, 4])
    kw = dict(config=cfg, steps=60, batch=4, crop_s=2.0, seed=0)
    base = train_mouth([c], out_dir=tmp_path / "a", **kw)
    zero = train_mouth([c], out_dir=tmp_path / "b", close_weight=0.0, **kw)
    for k in base.weights:  # W = 0: bit for bit the recipe without the option
        np.testing.assert_array_equal(base.weights[k], zero.weights[k])
    assert "close_weight" not in zero.meta
    heavy = train_mouth([c], out_dir=tmp_path / "c", close_weight=8.0, **kw)
    assert heavy.meta["close_weight"] == 8.0 and 0 < heavy.meta["closed_share_50hz"] < 0.4
    assert any(not np.array_equal(base.weights[k], heavy.weights[k]) for k in base.weights)
    x = c.feats.astype(np.float32)
    z, m = targets_50hz(c)
    cl = closed_50hz(c) & (m[:, 0] > 0)

    def closed_err(model):
        return float(np.mean((model.raw_outputs(x)[cl, 0] - z[cl, 0]) ** 2))

    assert closed_err(heavy) < closed_err(base)  # the weighted frames are fitted better
    with pytest.raises(InvalidArgumentError, match="close_weight=-1.0 must be >= 0"):
        train_mouth([c], out_dir=tmp_path / "d", close_weight=-1.0, **kw)
    with pytest.raises(InvalidArgumentError, match="must be 0 with loss='corr'"):
        train_mouth([c], out_dir=tmp_path / "e", close_weight=1.0, loss="corr", **kw)


def test_frontend_fn_reads_another_student_when_given_one(tmp_path):
    """``scripts/train_mouth.py --fast-dir`` trains on a candidate student's frames."""
    from talkinghead.models.mouth import student_frames
    from talkinghead.models.student import SpeechStudent, StudentConfig
    from talkinghead.recipes.mouth import frontend_fn

    cfg = StudentConfig(channels=8, dilations=[1], aux_dim=1)
    SpeechStudent(cfg, np.zeros(384), np.ones(384)).save_pretrained(tmp_path / "st")
    fn, st = frontend_fn("student", student_dir=tmp_path / "st")
    assert st.config.channels == 8
    y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    np.testing.assert_array_equal(fn(y), student_frames(st, y))
    assert fn(y).shape == (50, 385)
    _, shipped = frontend_fn("student")
    assert shipped.config.channels == 192
