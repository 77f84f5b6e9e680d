"""Training the learned mouth (:mod:`talkinghead.models.mouth_generator`) on real video.

Crops (:func:`build_crops`) are decoded from the source videos of prepared corpora
(``talkinghead prepare``: ``recordings.jsonl`` names each video, ``arrays/<id>.npz`` holds
its tracked 68 points); the held-out side is the ``mouth_v2`` split's test people
(:mod:`talkinghead.evaluate.splits`; speaker-disjoint), so :func:`build_crops` takes the
recording ids to keep. :func:`train`: a target crop and a reference crop (another frame of
the same clip) per sample; loss = L1 inside the mouth region (+ 0.1 x outside) + 0.5 x L1 of
the image gradients (an edge term), optionally + ``lap_weight`` x L1 of a Laplacian pyramid
(:func:`laplacian_pyramid_l1`, a sharper high-frequency term; no pretrained network),
optionally + ``profile_weight`` x L1 of the inner-mouth row brightness profile
(:func:`inner_profile_l1`: teeth are a bright band under the upper lip, then dark) and
+ ``adv_weight`` x a hinge adversarial term from a small PatchGAN on the mouth
(:func:`patch_discriminator`, trained beside it; L1 alone averages teeth into grey);
``open_frac`` of each batch is drawn from the most open quarter of the crops; Adam;
resumable from ``out/last`` (the discriminator too, ``disc.pt``). With the teeth control
(issue 18 session 12, ``teeth=True``): each target's ``k`` is measured on the real crop
(:func:`crop_teeth_values`, :func:`talkinghead.face.teeth.teeth_value`) and the inference
regression (:func:`~talkinghead.models.mouth_generator.fit_teeth_regression`) is fitted on
these training crops and stored in the model's config.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .._util.checkpoint import TRAINER_STATE, find_last_checkpoint, save_last_checkpoint
from ..errors import InvalidArgumentError

__all__ = [
    "build_crops",
    "crop_teeth_values",
    "train",
    "sample_batch",
    "laplacian_pyramid_l1",
    "inner_profile_l1",
    "patch_discriminator",
    "build_detail_data",
    "detail_batch",
    "train_detail",
]


def build_crops(
    prepared: list[Path],
    *,
    keep,
    size: int = 96,
    per_clip: int = 12,
    progress: bool = True,
) -> dict:
    """Mouth crops of the clips whose recording id ``keep(id)`` accepts.

    Returns
    -------
    dict with ``crops`` (N, S, S, 3) uint8, ``lm`` (N, 68, 2) float32 crop pixels,
    ``clip`` (N,) int, ``person`` (N,) str, ``ids`` (n_clips,) str.
    """
    import cv2

    from ..corpora.manifest import iter_accepted
    from ..corpora.people import recording_person
    from ..models.mouth_generator import crop_points, mouth_crop_matrix

    crops, lms, clip_idx, people, ids = [], [], [], [], []
    for c, rec, npz in iter_accepted(prepared):
        if not keep(rec["id"]):
            continue
        z = np.load(npz)
        lm, valid = z["landmarks68"], z["valid"].astype(bool)
        n = len(lm)
        want = set(np.flatnonzero(valid)[:: max(1, int(valid.sum()) // per_clip)][:per_clip])
        if len(want) < 2:
            continue
        cap = cv2.VideoCapture(rec["video"])
        start = int(c.get("start_frame", 0))
        if start:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        got = 0
        k = len(ids)
        for t in range(n):
            ok, fr = cap.read()
            if not ok:
                break
            if t not in want:
                continue
            rgb = cv2.cvtColor(fr, cv2.COLOR_BGR2RGB)
            M = mouth_crop_matrix(lm[t], size)
            crops.append(cv2.warpAffine(rgb, M, (size, size), flags=cv2.INTER_AREA,
                                        borderMode=cv2.BORDER_REFLECT))  # fmt: skip
            lms.append(crop_points(M, lm[t]).astype(np.float32))
            clip_idx.append(k)
            got += 1
        cap.release()
        if got:
            ids.append(c["id"])
            people.extend([recording_person(rec)] * got)
        if progress:
            print(f"{len(ids)} clips, {len(crops)} crops", flush=True, end="\r")
    if not crops:
        raise InvalidArgumentError("prepared= has no usable clips for the mouth crops")
    return {
        "crops": np.stack(crops),
        "lm": np.stack(lms),
        "clip": np.asarray(clip_idx),
        "person": np.asarray(people),
        "ids": np.asarray(ids),
    }


def crop_teeth_values(data: dict) -> np.ndarray:
    """(N,) float64: the teeth control ``k`` of every real crop of :func:`build_crops`'s
    ``data`` (:func:`talkinghead.face.teeth.teeth_value` at its own points)."""
    from ..face.teeth import teeth_value

    return np.array([teeth_value(c, p) for c, p in zip(data["crops"], data["lm"], strict=True)])


def sample_batch(
    data: dict,
    idx: np.ndarray,
    rng: np.random.Generator,
    *,
    guide: bool = False,
    teeth: bool = False,
):
    """Inputs (B, 9, S, S), targets (B, 3, S, S) in [-1, 1], masks (B, 1, S, S) (numpy).

    ``guide``: 3 more input channels, the procedural interior at the target lips coloured
    from the reference (:func:`talkinghead.render.photo.procedural_guide`, as at inference).
    ``teeth``: 1 more (last), the target's measured teeth control ``data["teeth"][i]``
    (:func:`crop_teeth_values`) in its inner lips."""
    from ..models.mouth_generator import generator_inputs
    from ..render.photo import procedural_guide

    crops, lm, clip = data["crops"], data["lm"], data["clip"]
    if teeth and "teeth" not in data:
        raise InvalidArgumentError("teeth=True must come with data['teeth'] (crop_teeth_values)")
    xs, ys, ms = [], [], []

    def mirror(p):
        p = np.asarray(p, np.float64).copy()
        p[:, 0] = crops.shape[2] - 1 - p[:, 0]
        return p[_MIRROR]

    for i in idx:
        same = np.flatnonzero(clip == clip[i])
        j = int(rng.choice(same[same != i])) if len(same) > 1 else int(i)
        tgt = crops[i]
        if rng.random() < 0.5:  # mirror target and reference together
            tgt, ref = tgt[:, ::-1], crops[j][:, ::-1]
            pts, ref_pts = mirror(lm[i]), mirror(lm[j])
        else:
            ref, pts, ref_pts = crops[j], lm[i], lm[j]
        tgt, ref = np.ascontiguousarray(tgt), np.ascontiguousarray(ref)
        g = procedural_guide(ref, ref_pts, pts) if guide else None
        inp, m = generator_inputs(tgt, ref, pts, g, float(data["teeth"][i]) if teeth else None)
        xs.append(inp)
        ys.append(tgt.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
        ms.append(m[None])
    return np.stack(xs), np.stack(ys), np.stack(ms)


# 68-point left/right mirror permutation
_MIRROR = np.array(
    list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60, 67, 66, 65]
)  # fmt: skip


def laplacian_pyramid_l1(x, y, levels: int = 3):
    """Mean L1 between the Laplacian pyramids of ``x`` and ``y`` (B, C, H, W) torch tensors.

    Each level is the image minus its 2x-blurred-and-upsampled self (a 5-tap binomial blur),
    so the term weighs the high frequencies (edges, teeth) that a plain L1 averages away;
    levels are summed, each normalised by its own size. ``H`` and ``W`` must be divisible by
    ``2 ** (levels - 1)``.
    """
    import torch
    from torch.nn import functional as F

    if levels < 1:
        raise InvalidArgumentError(f"levels={levels} must be >= 1")
    if x.shape != y.shape or x.ndim != 4:
        raise InvalidArgumentError(f"x.shape={tuple(x.shape)} must equal y.shape and be 4-D")
    k1 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=x.dtype, device=x.device) / 16
    c = x.shape[1]
    k = (k1[:, None] * k1[None, :]).expand(c, 1, 5, 5)

    def blur(a):
        return F.conv2d(F.pad(a, (2, 2, 2, 2), mode="reflect"), k, groups=c)

    total = x.new_zeros(())
    for lv in range(levels):
        if lv == levels - 1:
            total = total + F.l1_loss(x, y)
            break
        bx, by = blur(x), blur(y)
        total = total + F.l1_loss(x - bx, y - by)
        x, y = F.avg_pool2d(bx, 2), F.avg_pool2d(by, 2)
    return total


def inner_profile_l1(x, y, inner):
    """Mean L1 between the row brightness profiles of ``x`` and ``y`` (B, 3, H, W) inside
    ``inner`` (B, 1, H, W), the inner-lip polygon: per row, the mean grey of its pixels in
    the polygon, over the rows holding at least 2 of them (0 where none does)."""
    w = _grey_weights(x)
    gx, gy = (x * w).sum(1, keepdim=True), (y * w).sum(1, keepdim=True)
    n = inner.sum(-1)  # (B, 1, H)
    rows = n >= 2
    if not bool(rows.any()):
        return x.new_zeros(())
    px = (gx * inner).sum(-1) / n.clamp(min=1)
    py = (gy * inner).sum(-1) / n.clamp(min=1)
    return (px - py).abs()[rows].mean()


def _grey_weights(x):
    """(1, 3, 1, 1) ITU-R 601 grey weights on ``x``'s dtype and device."""
    import torch

    return torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)


def patch_discriminator(in_ch: int = 5, ch: int = 32):
    """A small PatchGAN (torch ``nn.Sequential``): (B, in_ch, H, W) -> (B, 1, H/8, W/8)
    logits; spectrally normalised 4x4 convs, stride 2 three times, then a 3x3 to one map."""
    from torch import nn
    from torch.nn.utils import spectral_norm as sn

    return nn.Sequential(
        sn(nn.Conv2d(in_ch, ch, 4, 2, 1)),
        nn.LeakyReLU(0.2),
        sn(nn.Conv2d(ch, 2 * ch, 4, 2, 1)),
        nn.LeakyReLU(0.2),
        sn(nn.Conv2d(2 * ch, 2 * ch, 4, 2, 1)),
        nn.LeakyReLU(0.2),
        sn(nn.Conv2d(2 * ch, 1, 3, 1, 1)),
    )


def edge_l1(x, y):
    """L1 between the vertical and horizontal image gradients of (B, C, H, W) ``x`` and ``y``."""
    from torch.nn import functional as F

    def grad(a):
        return a[..., 1:, :] - a[..., :-1, :], a[..., :, 1:] - a[..., :, :-1]

    (gy, gx), (ty, tx) = grad(x), grad(y)
    return F.l1_loss(gy, ty) + F.l1_loss(gx, tx)


def hinge_adversarial_step(disc, d_opt, real_in, fake_in):
    """One hinge-GAN step: update ``disc`` on real vs (detached) fake inputs, then return
    ``(generator adversarial loss, discriminator loss)``; the former has gradients for the
    generator only (the discriminator's are switched off while it is computed)."""
    from torch.nn import functional as F

    d_loss = F.relu(1 - disc(real_in)).mean() + F.relu(1 + disc(fake_in.detach())).mean()
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    for p in disc.parameters():
        p.requires_grad_(False)
    adv = -disc(fake_in).mean()
    for p in disc.parameters():
        p.requires_grad_(True)
    return adv, d_loss


def _optimizers(model, last, *, lr: float, beta1: float, adv_weight: float, d_lr: float):
    """Adam for ``model`` and, with ``adv_weight`` > 0, a :func:`patch_discriminator` with
    its Adam; both resumed from the checkpoint folder ``last`` when it holds their states.
    Returns ``(opt, disc or None, d_opt or None)``."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(beta1, 0.999))
    if last is not None and (last / "optim.pt").is_file():
        opt.load_state_dict(torch.load(last / "optim.pt", weights_only=True))
    disc = d_opt = None
    if adv_weight > 0:
        disc = patch_discriminator()
        d_opt = torch.optim.Adam(disc.parameters(), lr=d_lr, betas=(0.5, 0.999))
        if last is not None and (last / "disc.pt").is_file():
            st_d = torch.load(last / "disc.pt", weights_only=True)
            disc.load_state_dict(st_d["disc"])
            d_opt.load_state_dict(st_d["opt"])
    return opt, disc, d_opt


def _save_last(out: Path, model, opt, disc, d_opt, *, step: int, seed: int) -> None:
    """Rewrite ``out/last``: model, optimizer, discriminator (if any) and trainer state."""
    import torch

    def write(d: Path) -> None:
        model.save_pretrained(d)
        torch.save(opt.state_dict(), d / "optim.pt")
        if disc is not None:
            torch.save({"disc": disc.state_dict(), "opt": d_opt.state_dict()}, d / "disc.pt")
        (d / TRAINER_STATE).write_text(json.dumps({"step": step, "seed": seed}))

    save_last_checkpoint(out, write)


def _mouth_window(a):
    """The central ``S / 1.5`` square of (B, C, S, S) crops (the mouth and its lips)."""
    S = a.shape[-1]
    h = int(S / 1.5) // 2
    return a[..., S // 2 - h : S // 2 + h, S // 2 - h : S // 2 + h]


def train(
    data: dict,
    out: Path,
    *,
    config=None,
    steps: int = 2000,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    save_every: int = 100,
    max_seconds: float | None = None,
    lap_weight: float = 0.0,
    lap_levels: int = 3,
    profile_weight: float = 0.0,
    adv_weight: float = 0.0,
    d_lr: float = 2e-4,
    open_frac: float = 0.0,
    init=None,
    guide: bool = False,
    teeth: bool = False,
    log=print,
):
    """Train (or resume from ``out/last``) a :class:`MouthGenerator`; returns it.

    ``lap_weight`` > 0 adds ``lap_weight`` x :func:`laplacian_pyramid_l1` of the composite
    (generated inside the mask, real outside) against the target (logged as ``lap``).
    ``profile_weight`` > 0 adds :func:`inner_profile_l1` (``prof``); ``adv_weight`` > 0 adds
    ``adv_weight`` x the hinge generator loss of a :func:`patch_discriminator` that sees the
    mouth window of the composite (or the real crop) with the two shape maps, trained with
    the hinge loss at ``d_lr`` (``d``, ``adv``). ``open_frac``: that share of every batch is
    drawn from the quarter of the crops whose inner lips are open widest.

    ``out/last`` (model + ``trainer_state.json`` + ``optim.pt``) is rewritten every
    ``save_every`` steps and at the end; ``max_seconds`` stops early (then saved).
    ``init`` (a :class:`MouthGenerator` or its folder): start from these weights
    (fine-tuning, e.g. :func:`talkinghead.personalize.personalize`) unless the run resumes
    from ``out/last``; ``config`` is then ``init``'s. ``guide``: an unguided ``init`` gets
    the procedural-interior guide channels with zero weights
    (:meth:`~talkinghead.models.mouth_generator.MouthGenerator.with_guide`: step 0 is
    ``init`` itself); the batches carry the guide whenever the model is guided. ``teeth``:
    likewise the teeth control (:meth:`~talkinghead.models.mouth_generator.MouthGenerator.
    with_teeth`), with the regression fitted on ``data`` (:func:`crop_teeth_values`) unless
    the model has one; the batches carry the measured ``k`` whenever the model has it.
    """
    import torch

    from ..models.mouth_generator import (
        MouthGenerator,
        MouthGeneratorConfig,
        fit_teeth_regression,
    )

    for name, v in (("lap_weight", lap_weight), ("profile_weight", profile_weight),
                    ("adv_weight", adv_weight)):  # fmt: skip
        if v < 0:
            raise InvalidArgumentError(f"{name}={v} must be >= 0")
    if not 0 <= open_frac <= 1:
        raise InvalidArgumentError(f"open_frac={open_frac} must be in [0, 1]")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    last = find_last_checkpoint(out)
    step = 0
    if last is not None:
        model = MouthGenerator.from_pretrained(last).train()
        st = json.loads((last / TRAINER_STATE).read_text())
        step = int(st["step"])
    elif init is not None:
        src = init if isinstance(init, MouthGenerator) else MouthGenerator.from_pretrained(init)
        if guide and not src.config.guide:
            src = MouthGenerator.with_guide(src)
        if teeth and not src.config.teeth:
            src = MouthGenerator.with_teeth(src)
        model = MouthGenerator(src.config)
        model.load_state_dict(src.state_dict())
        model.train()
    else:
        size = int(data["crops"].shape[1])
        cfg = config or MouthGeneratorConfig(size=size, guide=guide, teeth=teeth)
        model = MouthGenerator(cfg)
    if guide and not model.config.guide:
        raise InvalidArgumentError("guide=True must come with a guided model (config.guide)")
    if teeth and not model.config.teeth:
        raise InvalidArgumentError("teeth=True must come with a teeth model (config.teeth)")
    if model.config.teeth:
        if "teeth" not in data:
            data = {**data, "teeth": crop_teeth_values(data)}
        if model.config.teeth_coef is None:
            model.config.teeth_coef = fit_teeth_regression(data["lm"], data["teeth"])
            if log is not None:
                log(f"teeth regression {[round(c, 4) for c in model.config.teeth_coef]}")
    if model.config.size != data["crops"].shape[1]:
        raise InvalidArgumentError(
            f"crops of {data['crops'].shape[1]} px must match config.size={model.config.size}"
        )
    opt, disc, d_opt = _optimizers(model, last, lr=lr, beta1=0.5, adv_weight=adv_weight, d_lr=d_lr)
    rng = np.random.default_rng(seed + step)
    N = len(data["crops"])
    lmd = np.asarray(data["lm"], np.float64)
    gap = np.linalg.norm(lmd[:, [61, 62, 63]] - lmd[:, [67, 66, 65]], axis=-1).mean(1)
    wide = np.flatnonzero(gap >= np.quantile(gap, 0.75))
    n_open = int(round(open_frac * batch_size))

    def save() -> None:
        _save_last(out, model, opt, disc, d_opt, step=step, seed=seed)

    t0 = time.time()
    model.train()
    while step < steps:
        idx = rng.integers(0, N, batch_size)
        if n_open:
            idx[:n_open] = rng.choice(wide, n_open)
        x, y, m = (
            torch.from_numpy(a)
            for a in sample_batch(
                data, idx, rng, guide=model.config.guide, teeth=model.config.teeth
            )
        )
        g = model(x)
        comp = g * m + y * (1 - m)
        l1 = (torch.abs(g - y) * (m + 0.1 * (1 - m))).mean() / (m.mean() + 0.1)
        edge = edge_l1(comp, y)
        loss = l1 + 0.5 * edge
        lap = laplacian_pyramid_l1(comp, y, lap_levels) if lap_weight > 0 else None
        if lap is not None:
            loss = loss + lap_weight * lap
        prof = inner_profile_l1(comp, y, x[:, 7:8]) if profile_weight > 0 else None
        if prof is not None:
            loss = loss + profile_weight * prof
        adv = d_loss = None
        if disc is not None:
            shp = x[:, 7:9]
            real_in = _mouth_window(torch.cat([y, shp], 1))
            fake_in = _mouth_window(torch.cat([comp, shp], 1))
            adv, d_loss = hinge_adversarial_step(disc, d_opt, real_in, fake_in)
            loss = loss + adv_weight * adv
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            extra = "" if lap is None else f"lap {lap.item():.4f} "
            if prof is not None:
                extra += f"prof {prof.item():.4f} "
            if adv is not None:
                extra += f"d {d_loss.item():.3f} adv {adv.item():.3f} "
            log(f"step {step} loss {loss.item():.4f} l1 {l1.item():.4f} edge {edge.item():.4f} "
                f"{extra}{time.time() - t0:.0f}s")  # fmt: skip
        if step % save_every == 0:
            save()
        if max_seconds is not None and time.time() - t0 > max_seconds:
            break
    save()
    return model.eval()


# ---------------------------------------------------------------------- the detail net


def build_detail_data(
    prepared: list[Path],
    *,
    keep,
    generator,
    min_iod: float = 70.0,
    per_clip: int = 60,
    patch: int = 112,
    top: int = 192,
    opening_frac: float = 0.7,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Training pairs for :class:`~talkinghead.models.mouth_detail.MouthDetail`.

    From every accepted clip whose recording id ``keep(id)`` accepts and whose median eye
    distance is >= ``min_iod`` px: ``per_clip`` frames, each cropped at
    ``N = min(top, 1.6 x eye distance)`` px (the clip's median; :func:`~talkinghead.models.
    mouth_detail.native_crop`) as the target, its 96 px version inpainted by ``generator``
    (the shipped learned mouth: so the net learns to sharpen its blur) with the reference
    from another frame of the clip, composited over the opening (share ``opening_frac``) or
    the whole mouth region, and upsampled (bicubic) to ``N``. Stored: the central
    ``patch`` px of each (``N >= patch``).

    Returns
    -------
    dict of uint8 arrays: ``base``, ``target``, ``reference`` (n, P, P, 3), ``mask`` (region
    {0, 255}), ``alpha`` (its feathered paste weight), ``inner``, ``lips`` (the shape maps
    x 255) (n, P, P); ``clip`` (n,) int, ``size`` (n,) int (``N``), ``ids`` (n_clips,) str.
    """
    import cv2

    from ..corpora.manifest import iter_accepted
    from ..models.mouth_detail import (
        feather,
        generator_composite,
        native_crop,
        region_mask,
    )
    from ..models.mouth_generator import crop_points, mouth_crop_matrix, shape_maps
    from ..render.photo import guide_function

    if patch % 2:
        raise InvalidArgumentError(f"patch={patch} must be even")
    rng = np.random.default_rng(seed)
    S = generator.config.size
    out = {k: [] for k in ("base", "target", "reference", "mask", "alpha", "inner", "lips")}
    clip_idx, sizes, ids = [], [], []
    for c, rec, npz in iter_accepted(prepared):
        if not keep(rec["id"]):
            continue
        z = np.load(npz)
        lm, valid = z["landmarks68"].astype(np.float64), z["valid"].astype(bool)
        if valid.sum() < 4:
            continue
        iod = np.linalg.norm(lm[:, 42:48].mean(1) - lm[:, 36:42].mean(1), axis=1)
        med = float(np.median(iod[valid]))
        N = min(top, int(round(1.6 * med / 8)) * 8)
        if med < min_iod or N < patch:
            continue
        good = np.flatnonzero(valid)
        want = set(good[:: max(1, len(good) // per_clip)][:per_clip].tolist())
        cap = cv2.VideoCapture(rec["video"])
        start = int(c.get("start_frame", 0))
        if start:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        crops, pts = [], []
        for t in range(len(lm)):
            ok, fr = cap.read()
            if not ok:
                break
            if t in want:
                rgb = cv2.cvtColor(fr, cv2.COLOR_BGR2RGB)
                crops.append(native_crop(rgb, lm[t], N))
                pts.append(crop_points(mouth_crop_matrix(lm[t], N), lm[t]))
        cap.release()
        if len(crops) < 2:
            continue
        k = len(ids)
        ids.append(c["id"])
        lo = (N - patch) // 2
        win = (slice(lo, lo + patch), slice(lo, lo + patch))
        small = [cv2.resize(x, (S, S), interpolation=cv2.INTER_AREA) for x in crops]
        for i in range(len(crops)):
            j = int(rng.choice([q for q in range(len(crops)) if q != i]))
            opening = bool(rng.random() < opening_frac)
            g = None
            if generator.config.guide:  # a guided generator sees the procedural interior
                g = guide_function(small[j], pts[j] * (S / N))
            comp = generator_composite(small[i], small[j], pts[i] * (S / N), generator,
                                       opening_only=opening, guide=g)  # fmt: skip
            base = cv2.resize(comp, (N, N), interpolation=cv2.INTER_CUBIC)
            m = region_mask(pts[i], N, opening_only=opening)
            shp = shape_maps(pts[i], N)
            out["base"].append(base[win])
            out["target"].append(crops[i][win])
            out["reference"].append(crops[j][win])
            out["mask"].append((m[win] * 255).astype(np.uint8))
            out["alpha"].append(np.clip(feather(m)[win] * 255 + 0.5, 0, 255).astype(np.uint8))
            out["inner"].append((shp[0][win] * 255 + 0.5).astype(np.uint8))
            out["lips"].append((shp[1][win] * 255 + 0.5).astype(np.uint8))
            clip_idx.append(k)
            sizes.append(N)
        if progress:
            print(f"{len(ids)} clips, {len(clip_idx)} samples", flush=True, end="\r")
    if not clip_idx:
        raise InvalidArgumentError(
            f"prepared= has no clips with >= {min_iod} px between the eyes for the detail net"
        )
    res = {k: np.stack(v) for k, v in out.items()}
    res.update(clip=np.asarray(clip_idx), size=np.asarray(sizes), ids=np.asarray(ids))
    return res


def detail_batch(data: dict, idx: np.ndarray, rng: np.random.Generator):
    """Inputs (B, 12, P, P), targets (B, 3, P, P) in [-1, 1], masks and paste weights
    (B, 1, P, P) in [0, 1] (numpy), each sample mirrored with probability 1/2."""

    def img(a):
        return a.astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0

    def one(a):
        return a.astype(np.float32)[:, None] / 255.0

    base, tgt, ref = img(data["base"][idx]), img(data["target"][idx]), img(data["reference"][idx])
    m, a = one(data["mask"][idx]), one(data["alpha"][idx])
    shp = np.concatenate([one(data["inner"][idx]), one(data["lips"][idx])], 1)
    x = np.concatenate([base, tgt * (1 - m), m, ref, shp], 1)
    flip = rng.random(len(idx)) < 0.5
    x[flip], tgt[flip] = x[flip, ..., ::-1], tgt[flip, ..., ::-1]
    m[flip], a[flip] = m[flip, ..., ::-1], a[flip, ..., ::-1]
    return (np.ascontiguousarray(x), np.ascontiguousarray(tgt), np.ascontiguousarray(m),
            np.ascontiguousarray(a))  # fmt: skip


def train_detail(
    data: dict,
    out: Path,
    *,
    config=None,
    steps: int = 2000,
    batch_size: int = 12,
    lr: float = 1e-3,
    seed: int = 0,
    save_every: int = 100,
    max_seconds: float | None = None,
    lap_weight: float = 1.0,
    adv_weight: float = 0.0,
    d_lr: float = 4e-4,
    log=print,
):
    """Train (or resume from ``out/last``) a :class:`~talkinghead.models.mouth_detail.
    MouthDetail` on :func:`build_detail_data` pairs; returns it (eval mode).

    Loss: L1 of the prediction against the target inside the region (+ 0.05 x outside),
    + 0.5 x L1 of the image gradients and ``lap_weight`` x :func:`laplacian_pyramid_l1` of
    the composite (the prediction pasted with its feathered weight over the target);
    ``adv_weight`` > 0 adds that x the hinge generator loss of a :func:`patch_discriminator`
    on the composite with the two shape maps (trained beside it at ``d_lr``; ``disc.pt``).
    ``out/last`` is rewritten every ``save_every`` steps and at the end; ``max_seconds``
    stops early (then saved).
    """
    import torch

    from ..models.mouth_detail import MouthDetail, MouthDetailConfig

    for name, v in (("lap_weight", lap_weight), ("adv_weight", adv_weight)):
        if v < 0:
            raise InvalidArgumentError(f"{name}={v} must be >= 0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    last = find_last_checkpoint(out)
    step = 0
    if last is not None:
        model = MouthDetail.from_pretrained(last).train()
        step = int(json.loads((last / TRAINER_STATE).read_text())["step"])
    else:
        model = MouthDetail(config or MouthDetailConfig()).train()
    opt, disc, d_opt = _optimizers(model, last, lr=lr, beta1=0.9, adv_weight=adv_weight, d_lr=d_lr)
    rng = np.random.default_rng(seed + step)
    n = len(data["target"])

    def save() -> None:
        _save_last(out, model, opt, disc, d_opt, step=step, seed=seed)

    t0 = time.time()
    while step < steps:
        x, y, m, a = (
            torch.from_numpy(v) for v in detail_batch(data, rng.integers(0, n, batch_size), rng)
        )
        g = model(x)
        comp = g * a + y * (1 - a)
        l1 = (torch.abs(g - y) * (m + 0.05)).mean() / (m.mean() + 0.05)
        edge = edge_l1(comp, y)
        lap = laplacian_pyramid_l1(comp, y, 3)
        loss = l1 + 0.5 * edge + lap_weight * lap
        adv = d_loss = None
        if disc is not None:
            shp = x[:, 10:12]
            real_in, fake_in = torch.cat([y, shp], 1), torch.cat([comp, shp], 1)
            adv, d_loss = hinge_adversarial_step(disc, d_opt, real_in, fake_in)
            loss = loss + adv_weight * adv
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            extra = "" if adv is None else f"d {d_loss.item():.3f} adv {adv.item():.3f} "
            log(f"step {step} loss {loss.item():.4f} l1 {l1.item():.4f} edge {edge.item():.4f} "
                f"lap {lap.item():.4f} {extra}{time.time() - t0:.0f}s")  # fmt: skip
        if step % save_every == 0:
            save()
        if max_seconds is not None and time.time() - t0 > max_seconds:
            break
    save()
    return model.eval()
