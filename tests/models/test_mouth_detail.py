"""The learned mouth's detail net (issue 18 session 10): pass sizes, shapes, the residual at
initialisation, checkpoint round trip, the pasted result changes only the mouth region, a
training step that resumes, and the photo render path on a large face."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from photo_faces import pull_lips_apart, real_photo_face  # (tests/ is on sys.path)
from talkinghead.errors import InvalidArgumentError
from talkinghead.face.normalize import neutral_face_68
from talkinghead.models.mouth_detail import (
    MouthDetail,
    MouthDetailConfig,
    detail_inputs,
    detail_sizes,
    native_crop,
    native_side,
    paste_mouth_detailed,
    region_mask,
)
from talkinghead.models.mouth_generator import (
    MouthGenerator,
    MouthGeneratorConfig,
    crop_points,
    mouth_crop_matrix,
    paste_mouth,
)


def _face_points(scale=400.0, shift=(300.0, 150.0)) -> np.ndarray:
    lm = neutral_face_68() * scale + np.asarray(shift)
    lm[[65, 66, 67], 1] += 0.08 * scale  # an open mouth
    return lm


def _tiny_gen(seed=0) -> MouthGenerator:
    torch.manual_seed(seed)
    return MouthGenerator(MouthGeneratorConfig(size=32, base_channels=4)).eval()


def _tiny_detail(seed=0) -> MouthDetail:
    torch.manual_seed(seed)
    m = MouthDetail(MouthDetailConfig(base_channels=4, n_res=1))
    with torch.no_grad():  # the output conv starts at zero (identity): make it do something
        m.out.weight.normal_(0, 0.2)
    return m.eval()


def test_detail_sizes_double_up_to_the_native_side():
    assert detail_sizes(100.0, 96) == []  # <= 1.3 x 96: the 96 px path
    assert detail_sizes(124.0, 96) == []
    assert detail_sizes(130.0, 96) == [128]
    assert detail_sizes(170.0, 96) == [168]
    assert detail_sizes(709.0, 96) == [192, 384]
    assert detail_sizes(709.0, 96, max_passes=1) == [192]
    assert detail_sizes(709.0, 96, max_passes=0) == []
    with pytest.raises(InvalidArgumentError, match="max_passes=-1 must be"):
        detail_sizes(709.0, 96, max_passes=-1)
    lm = _face_points()
    iod = np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0))
    assert native_side(lm) == pytest.approx(1.6 * iod)


def test_inputs_shapes_and_identity_at_initialisation():
    rng = np.random.default_rng(0)
    N = 64
    base, crop, ref = (rng.integers(0, 255, (N, N, 3), dtype=np.uint8) for _ in range(3))
    lm = _face_points()
    pts = crop_points(mouth_crop_matrix(lm, N), lm)
    m = region_mask(pts, N, opening_only=True)
    assert 0 < m.sum() < region_mask(pts, N, opening_only=False).sum()
    inp = detail_inputs(base, crop, m, ref, pts)
    assert inp.shape == (12, N, N)
    assert np.all(inp[3:6][:, m > 0] == 0)  # the real mouth is hidden from the input
    with pytest.raises(InvalidArgumentError, match=r"reference.shape"):
        detail_inputs(base, crop, m, ref[:10], pts)
    model = MouthDetail(MouthDetailConfig(base_channels=4, n_res=1)).eval()
    y = model.refine(base, crop, m, ref, pts)  # zero-initialised residual: the base itself
    assert y.shape == (N, N, 3) and np.abs(y.astype(int) - base).max() <= 1
    with pytest.raises(InvalidArgumentError, match=r"x.shape"):
        model(torch.zeros(1, 9, N, N))
    with pytest.raises(InvalidArgumentError, match="base_channels=0 must be"):
        MouthDetailConfig(base_channels=0)


def test_save_load_round_trip(tmp_path):
    model = _tiny_detail()
    model.save_pretrained(tmp_path / "d")
    back = MouthDetail.from_pretrained(tmp_path / "d")
    assert back.config == model.config
    x = torch.randn(2, 12, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(back(x), model(x))


def test_paste_changes_only_the_mouth_region_and_sharpens_to_the_native_size():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (900, 900, 3), dtype=np.uint8)
    lm = _face_points()
    assert detail_sizes(native_side(lm), 32) == [64, 128]
    gen, det = _tiny_gen(), _tiny_detail()
    calls = []

    def ref(n):
        calls.append(n)
        return native_crop(img, lm, n)

    out = paste_mouth_detailed(img.copy(), lm, ref, gen, det, opening_only=True)
    assert calls == [32, 64, 128]  # the generator's reference, then one per pass
    changed = np.abs(out.astype(int) - img).max(-1)
    assert not changed[: int(lm[48:68, 1].min()) - 100].any()  # eyes and above untouched
    ys, xs = np.nonzero(changed > 8)
    assert len(xs) > 100
    lo, hi = lm[60:68].min(0), lm[60:68].max(0)
    pad = 0.15 * np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0))
    assert xs.min() >= lo[0] - pad and xs.max() <= hi[0] + pad  # the opening + the feather
    assert ys.min() >= lo[1] - pad and ys.max() <= hi[1] + pad
    # without the net (or no pass) it is the 96 px path exactly
    plain = paste_mouth_detailed(img.copy(), lm, ref, gen, None, opening_only=True)
    assert np.array_equal(plain, paste_mouth(img.copy(), lm, ref(32), gen, opening_only=True))
    assert not np.array_equal(plain, out)


def test_training_lowers_the_loss_and_resumes(tmp_path):
    from talkinghead.training.mouth_generator_train import detail_batch, train_detail

    rng = np.random.default_rng(0)
    n, P = 6, 32
    tgt = rng.integers(0, 255, (n, P, P, 3), dtype=np.uint8)
    import cv2

    base = np.stack([cv2.GaussianBlur(t, (0, 0), 2) for t in tgt])  # the blur to undo
    mask = np.zeros((n, P, P), np.uint8)
    mask[:, 8:24, 8:24] = 255
    data = {"base": base, "target": tgt, "reference": tgt[::-1].copy(), "mask": mask,
            "alpha": mask, "inner": mask, "lips": np.zeros_like(mask),
            "clip": np.zeros(n, int), "size": np.full(n, P)}  # fmt: skip
    x, y, m, a = detail_batch(data, np.arange(n), rng)
    assert x.shape == (n, 12, P, P) and y.shape == (n, 3, P, P) and m.shape == (n, 1, P, P)
    assert np.all(x[:, 3:6][np.broadcast_to(m > 0, x[:, 3:6].shape)] == 0)
    logs = []
    cfg = MouthDetailConfig(base_channels=4, n_res=1)
    train_detail(data, tmp_path, config=cfg, steps=50, batch_size=4, lr=3e-3, log=logs.append)
    first = float(logs[0].split()[3])
    model = train_detail(data, tmp_path, steps=100, batch_size=4, lr=3e-3, log=logs.append)
    assert len(logs) == 2 and logs[1].startswith("step 100")  # resumed at 50
    assert float(logs[1].split()[3]) < first
    assert model.config == cfg


def test_photo_render_uses_the_detail_net_on_a_large_face(shared_data):
    """PhotoAnimator(mouth="learned") on a real frame upscaled 2x (about 220 px between the
    eyes): with a detail net the frame differs from the 96 px path only around the mouth;
    mouth_detail=False is the 96 px path; procedural ignores it."""
    from talkinghead.render.photo import PhotoAnimator, load_mouth_detail

    face = real_photo_face(
        shared_data / "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4", scale=2
    )
    assert face.interocular > 150
    gen, det = _tiny_gen(), _tiny_detail()
    a = PhotoAnimator(face, mouth="learned", mouth_model=gen, mouth_detail=det)
    b = PhotoAnimator(face, mouth="learned", mouth_model=gen, mouth_detail=False)
    assert a.mouth_detail is det and b.mouth_detail is None
    assert load_mouth_detail(False) is None
    moving = a.control_points(neutral_face_68() + [0, 0])
    lm = moving[:68].copy()
    lm[[65, 66, 67], 1] += 0.15 * face.interocular  # open the mouth
    moving[:68] = lm
    fa, fb = a.frame(moving), b.frame(moving)
    diff = np.abs(fa.astype(int) - fb).max(-1) > 8
    ys, xs = np.nonzero(diff)
    assert diff.sum() > 100
    lo, hi = lm[48:68].min(0), lm[48:68].max(0)
    iod = face.interocular
    assert xs.min() >= lo[0] - 0.3 * iod and xs.max() <= hi[0] + 0.3 * iod
    assert ys.min() >= lo[1] - 0.3 * iod and ys.max() <= hi[1] + 0.3 * iod
    p = PhotoAnimator(face, mouth="procedural", mouth_detail=det)
    assert p.mouth_detail is None


def test_adversarial_detail_training_logs_and_resumes_the_discriminator(tmp_path):
    from talkinghead.training.mouth_generator_train import train_detail

    rng = np.random.default_rng(1)
    n, P = 4, 32
    tgt = rng.integers(0, 255, (n, P, P, 3), dtype=np.uint8)
    mask = np.zeros((n, P, P), np.uint8)
    mask[:, 8:24, 8:24] = 255
    data = {"base": tgt[:, ::-1].copy(), "target": tgt, "reference": tgt, "mask": mask,
            "alpha": mask, "inner": mask, "lips": np.zeros_like(mask)}  # fmt: skip
    logs = []
    cfg = MouthDetailConfig(base_channels=4, n_res=1)
    train_detail(data, tmp_path, config=cfg, steps=50, batch_size=2, adv_weight=0.05,
                 log=logs.append)  # fmt: skip
    assert " d " in logs[0] and " adv " in logs[0]
    assert (tmp_path / "last" / "disc.pt").is_file()
    train_detail(data, tmp_path, steps=100, batch_size=2, adv_weight=0.05, log=logs.append)
    assert logs[1].startswith("step 100")
    with pytest.raises(InvalidArgumentError, match="adv_weight=-1 must be"):
        train_detail(data, tmp_path / "x", adv_weight=-1)


def test_shipped_detail_net_is_small_and_sharpens_a_large_opened_mouth(shared_data):
    """The shipped detail net (make pretrained; docs/photo.md session 10) with the shipped
    learned mouth on a real frame upscaled 2x (about 220 px between the eyes, two passes):
    the opened mouth's opening has more high-frequency detail (variance of the Laplacian)
    than the 96 px path's upscale, and only the mouth changes."""
    import cv2

    from talkinghead.render.photo import MOUTH_DETAIL_DIR, load_mouth_detail, load_mouth_generator

    if not (MOUTH_DETAIL_DIR / "config.json").is_file():
        pytest.skip("the detail net is not shipped in this build")
    size = sum(f.stat().st_size for f in MOUTH_DETAIL_DIR.iterdir())
    assert size < 1e6
    det, gen = load_mouth_detail(), load_mouth_generator()
    assert det.n_params == 54707
    video = shared_data / "OpenTalker__SadTalker/examples/ref_video/WDA_KatieHill_000.mp4"
    face = real_photo_face(video, scale=2)
    lm = np.asarray(face.landmarks, np.float64)
    t = pull_lips_apart(lm, face.interocular, 0.2)
    assert len(detail_sizes(native_side(t), 96)) == 2

    def ref(n):
        return native_crop(face.image, lm, n)

    sharp = paste_mouth_detailed(face.image.copy(), t, ref, gen, det, opening_only=True)
    plain = paste_mouth_detailed(face.image.copy(), t, ref, gen, None, opening_only=True)
    inner = np.zeros(face.image.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(t[60:68]).astype(np.int32)], 1)
    inner = cv2.erode(inner, np.ones((5, 5), np.uint8)) > 0

    def lap_var(img):
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
        return float(cv2.Laplacian(g, cv2.CV_64F)[inner].var())

    assert lap_var(sharp) > 1.2 * lap_var(plain)
    ys, xs = np.nonzero(np.abs(sharp.astype(int) - face.image).max(-1) > 8)
    lo, hi = t[48:68].min(0), t[48:68].max(0)
    assert xs.min() >= lo[0] - 20 and xs.max() <= hi[0] + 20
