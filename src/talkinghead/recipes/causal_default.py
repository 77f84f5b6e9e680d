"""Distillation recipe of the causal default model (:mod:`talkinghead.models.causal_default`).

1. **Audio**: the student recipe's sources (:func:`talkinghead.recipes.student.distill_sources`:
   speech files of the shared data minus the evaluation clips) and its augmentations
   (speed, noise, telephone band).
2. **Teacher**: the shipped offline default model (distilled student + ridge read-out) on the
   whole file: its mouth z-score at 50 Hz (the read-out's context offsets doubled, as in
   ``scripts/train_student.py``) and the student's 384 features; stored with the *causal*
   log-mel of the same audio by :func:`build_causal_set` (one ``.npz`` per copy; resumable).
3. **Training** (:func:`train_causal_default`): random crops; head ``k`` at trunk frame ``i``
   learns the teacher's z-score at frame ``i - delays[k]``; an auxiliary 1x1 output learns the
   teacher's standardised features at ``i - 4`` (80 ms; dropped from the saved model).
   AdamW, one-cycle schedule. No face data is involved: the faces enter only through the
   offline teacher.

``scripts/train_causal_default.py`` runs it end to end.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["build_causal_set", "train_causal_default", "teacher_targets"]

log = logging.getLogger(__name__)
FEAT_DELAY = 4


def teacher_targets(teacher, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The offline model's (z-score (n,), features (n, 384)) at 50 Hz for 16 kHz ``y``."""
    from ..models.default import DefaultModel, whisper_logmel

    if teacher.student is None:
        raise InvalidArgumentError("the teacher must be the student-front-end default model")
    t50 = getattr(teacher, "_t50", None)
    if t50 is None:
        t50 = DefaultModel(teacher.weight, teacher.bias, teacher.feature_mean,
                           teacher.feature_scale, [2 * o for o in teacher.offsets])  # fmt: skip
        teacher._t50 = t50
    feats = teacher.student.encode(whisper_logmel(y=y, sr=16000))
    return t50.predict_zscore(feats).astype(np.float32), feats.astype(np.float32)


def build_causal_set(
    sources: list[tuple[str, Path]],
    out_dir: str | os.PathLike,
    *,
    teacher=None,
    augmentations=("orig", "speed0.9", "speed1.1+noise", "tel"),
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Write ``out_dir/<id>__<aug>.npz``: ``mel`` (80, 2n) causal log-mel, ``z`` (n,),
    ``feat`` (n, 384) float16. Existing files are kept; unreadable sources are listed.

    Returns
    -------
    dict
        ``{"written", "kept", "failed": [(id, reason)], "seconds", "audio_seconds"}``
    """
    from ..models.causal_default import causal_logmel
    from ..models.default import DefaultModel
    from .student import cache_augmented

    teacher = teacher or DefaultModel.from_pretrained()

    def targets(y: np.ndarray) -> dict:
        mel = causal_logmel(y)
        z, feat = teacher_targets(teacher, y)
        n = min(len(z), mel.shape[1] // 2)
        return {"mel": mel[:, : 2 * n].astype(np.float16), "z": z[:n],
                "feat": feat[:n].astype(np.float16)}  # fmt: skip

    return cache_augmented(list(sources), out_dir, augmentations=augmentations, targets=targets,
                           seed=seed, desc="causal set", progress=progress)  # fmt: skip


def train_causal_default(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    config=None,
    teacher=None,
    steps: int = 2500,
    batch_size: int = 32,
    crop_s: float = 4.0,
    lr: float = 2e-3,
    seed: int = 0,
    valid_fraction: float = 0.03,
    feat_weight: float = 0.25,
    warmup_frames: int = 10,
    progress: bool = True,
    meta: dict | None = None,
):
    """Fit a :class:`~talkinghead.models.causal_default.CausalDefaultModel` to the cached
    teacher targets; saves it (with the teacher's calibration) to ``out_dir``.

    Returns
    -------
    (CausalDefaultModel, dict)
        The model and a log: ``train_loss``, per-head held-out ``valid_r`` (correlation
        with the teacher's z-score on held-out files), ``seconds``, sizes.
    """
    import torch

    from .._util.progress import progress as progress_bar
    from ..models.causal_default import CausalDefaultConfig, CausalDefaultModel, build_net
    from ..models.default import DefaultModel
    from .student import feature_stats, split_by_source

    cfg = config or CausalDefaultConfig()
    teacher = teacher or DefaultModel.from_pretrained()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    files = sorted(Path(data_dir).glob("*.npz"))
    if not files:
        raise InvalidArgumentError(f"data_dir='{data_dir}' must hold .npz files")
    mels, zs, feats, names = [], [], [], []
    for f in files:
        with np.load(f) as d:
            if d["z"].shape[0] < 8:
                continue
            mels.append(d["mel"])
            zs.append(d["z"].astype(np.float32))
            feats.append(d["feat"])
        names.append(f.stem)
    tr, va = split_by_source(names, valid_fraction, rng)
    fmean, fscale = feature_stats(feats, tr)
    net = build_net(cfg, feat_dim=feats[0].shape[1])
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    crop = int(crop_s * 50)
    lengths = np.array([zs[i].shape[0] for i in tr])
    prob = lengths / lengths.sum()
    delays = np.asarray(cfg.delays)
    fm, fs = torch.from_numpy(fmean), torch.from_numpy(fscale)

    def batch():
        X = np.zeros((batch_size, cfg.n_mels, 2 * crop), np.float32)
        Z = np.zeros((batch_size, len(delays), crop), np.float32)
        M = np.zeros((batch_size, len(delays), crop), np.float32)
        F = np.zeros((batch_size, crop, feats[0].shape[1]), np.float32)
        FM = np.zeros((batch_size, crop), np.float32)
        for b, i in enumerate(rng.choice(len(tr), batch_size, p=prob)):
            k = tr[i]
            n = zs[k].shape[0]
            s = int(rng.integers(0, max(1, n - crop + 1)))
            e = min(n, s + crop)
            m = mels[k][:, 2 * s : 2 * e].astype(np.float32)
            X[b, :, : m.shape[1]] = m
            if m.shape[1] < 2 * crop:
                X[b, :, m.shape[1] :] = m.min()
            for h, d in enumerate(delays):  # output frame j (abs s + j) <- teacher s + j - d
                j = np.arange(max(warmup_frames, d), e - s)
                src = s + j - d
                Z[b, h, j] = zs[k][src]
                M[b, h, j] = 1.0
            j = np.arange(max(warmup_frames, FEAT_DELAY), e - s)
            F[b, j] = feats[k][s + j - FEAT_DELAY]
            FM[b, j] = 1.0
        return tuple(torch.from_numpy(a) for a in (X, Z, M, F, FM))

    t0 = time.perf_counter()
    net.train()
    losses = []
    bar = progress_bar(total=steps, desc="train causal", unit="step", enabled=progress)
    try:
        for step in range(steps):
            X, Z, M, F, FM = batch()
            hz, hf = net(X)
            lz = (((hz - Z) ** 2) * M).sum() / M.sum()
            lf = ((((hf.transpose(1, 2) - (F - fm) / fs) ** 2).mean(-1)) * FM).sum() / FM.sum()
            loss = lz + feat_weight * lf
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append((float(lz.detach()), float(lf.detach())))
            bar.update(1)
            if step % 50 == 0:
                a = np.mean(losses[-50:], axis=0)
                bar.set_postfix_str(f"z {a[0]:.3f} feat {a[1]:.3f}", refresh=False)
    finally:
        bar.close()
    weights = {k: v.detach().cpu().numpy().astype(np.float32)
               for k, v in net.state_dict().items() if not k.startswith("feat.")}  # fmt: skip
    model = CausalDefaultModel(cfg, weights, calibration=teacher.calibration, meta=meta)
    # held-out: r between each head (aligned by its delay) and the teacher z-score
    valid_r = []
    for h, d in enumerate(delays):
        num = []
        for i in va:
            z = model.trunk_offline(mels[i].astype(np.float32))[:, h]
            t = zs[i]
            a, b = z[d : len(t)], t[: len(t) - d]
            if len(a) > 10 and a.std() > 0 and b.std() > 0:
                num.append(float(np.corrcoef(a, b)[0, 1]))
        valid_r.append(float(np.median(num)) if num else float("nan"))
    logd = {
        "train_loss_z": float(np.mean([x[0] for x in losses[-100:]])),
        "train_loss_feat": float(np.mean([x[1] for x in losses[-100:]])),
        "valid_median_r_vs_teacher": dict(zip([int(d) * 20 for d in delays], valid_r, strict=True)),
        "valid_files": len(va),
        "train_files": len(tr),
        "train_hours": float(lengths.sum() / 50 / 3600),
        "seconds": time.perf_counter() - t0,
        "steps": steps,
        "batch_size": batch_size,
    }
    model.meta.update({"training": logd})
    model.save_pretrained(out_dir)
    return model, logd
