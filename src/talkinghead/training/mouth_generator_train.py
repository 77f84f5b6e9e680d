"""Training the learned mouth (:mod:`talkinghead.models.mouth_generator`) on real video.

Crops (:func:`build_crops`) are decoded from the source videos of prepared corpora
(``talkinghead prepare``: ``recordings.jsonl`` names each video, ``arrays/<id>.npz`` holds
its tracked 68 points); the held-out side is the ``mouth_v2`` split's test people
(:mod:`talkinghead.evaluate.splits`; speaker-disjoint), so :func:`build_crops` takes the
recording ids to keep. :func:`train`: a target crop and a reference crop (another frame of
the same clip) per sample; loss = L1 inside the mouth region (+ 0.1 x outside) + 0.5 x L1 of
the image gradients (an edge term), optionally + ``lap_weight`` x L1 of a Laplacian pyramid
(:func:`laplacian_pyramid_l1`, a sharper high-frequency term; no pretrained network); Adam;
resumable from ``out/last``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .._util.checkpoint import TRAINER_STATE, find_last_checkpoint, save_last_checkpoint
from ..errors import InvalidArgumentError

__all__ = ["build_crops", "train", "sample_batch", "laplacian_pyramid_l1"]


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

    from ..models.mouth_generator import crop_points, mouth_crop_matrix

    crops, lms, clip_idx, people, ids = [], [], [], [], []
    for d in map(Path, prepared):
        recs = {}
        for line in (d / "recordings.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                recs[r["id"]] = r
        for line in (d / "clips.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            c = json.loads(line)
            rec = recs.get(c.get("recording"))
            if c.get("status") != "ok" or rec is None or not keep(rec["id"]):
                continue
            z = np.load(d / c["path"])
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
                people.extend([(rec.get("extra") or {}).get("person") or rec["speaker"]] * got)
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


def sample_batch(data: dict, idx: np.ndarray, rng: np.random.Generator):
    """Inputs (B, 9, S, S), targets (B, 3, S, S) in [-1, 1], masks (B, 1, S, S) (numpy)."""
    from ..models.mouth_generator import generator_inputs

    crops, lm, clip = data["crops"], data["lm"], data["clip"]
    xs, ys, ms = [], [], []
    for i in idx:
        same = np.flatnonzero(clip == clip[i])
        j = int(rng.choice(same[same != i])) if len(same) > 1 else int(i)
        tgt = crops[i]
        if rng.random() < 0.5:  # mirror target and reference together
            tgt, ref = tgt[:, ::-1], crops[j][:, ::-1]
            pts = lm[i].copy()
            pts[:, 0] = tgt.shape[1] - 1 - pts[:, 0]
            pts = pts[_MIRROR]
        else:
            ref, pts = crops[j], lm[i]
        inp, m = generator_inputs(np.ascontiguousarray(tgt), np.ascontiguousarray(ref), pts)
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
    log=print,
):
    """Train (or resume from ``out/last``) a :class:`MouthGenerator`; returns it.

    ``lap_weight`` > 0 adds ``lap_weight`` x :func:`laplacian_pyramid_l1` of the composite
    (generated inside the mask, real outside) against the target (logged as ``lap``).

    ``out/last`` (model + ``trainer_state.json`` + ``optim.pt``) is rewritten every
    ``save_every`` steps and at the end; ``max_seconds`` stops early (then saved).
    """
    import torch
    from torch.nn import functional as F

    from ..models.mouth_generator import MouthGenerator, MouthGeneratorConfig

    if lap_weight < 0:
        raise InvalidArgumentError(f"lap_weight={lap_weight} must be >= 0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    last = find_last_checkpoint(out)
    step = 0
    if last is not None:
        model = MouthGenerator.from_pretrained(last).train()
        st = json.loads((last / TRAINER_STATE).read_text())
        step = int(st["step"])
    else:
        model = MouthGenerator(config or MouthGeneratorConfig(size=int(data["crops"].shape[1])))
    if model.config.size != data["crops"].shape[1]:
        raise InvalidArgumentError(
            f"crops of {data['crops'].shape[1]} px must match config.size={model.config.size}"
        )
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.999))
    if last is not None and (last / "optim.pt").is_file():
        opt.load_state_dict(torch.load(last / "optim.pt", weights_only=True))
    rng = np.random.default_rng(seed + step)
    N = len(data["crops"])

    def save() -> None:
        def write(d: Path) -> None:
            model.save_pretrained(d)
            torch.save(opt.state_dict(), d / "optim.pt")
            (d / TRAINER_STATE).write_text(json.dumps({"step": step, "seed": seed}))

        save_last_checkpoint(out, write)

    def grad(x):
        return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]

    t0 = time.time()
    model.train()
    while step < steps:
        x, y, m = (
            torch.from_numpy(a) for a in sample_batch(data, rng.integers(0, N, batch_size), rng)
        )
        g = model(x)
        comp = g * m + y * (1 - m)
        l1 = (torch.abs(g - y) * (m + 0.1 * (1 - m))).mean() / (m.mean() + 0.1)
        (gy, gx), (ty, tx) = grad(comp), grad(y)
        edge = F.l1_loss(gy, ty) + F.l1_loss(gx, tx)
        loss = l1 + 0.5 * edge
        lap = laplacian_pyramid_l1(comp, y, lap_levels) if lap_weight > 0 else None
        if lap is not None:
            loss = loss + lap_weight * lap
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            extra = "" if lap is None else f"lap {lap.item():.4f} "
            log(f"step {step} loss {loss.item():.4f} l1 {l1.item():.4f} edge {edge.item():.4f} "
                f"{extra}{time.time() - t0:.0f}s")  # fmt: skip
        if step % save_every == 0:
            save()
        if max_seconds is not None and time.time() - t0 > max_seconds:
            break
    save()
    return model.eval()
