"""Training recipe of the /p b m/ frame classifier (issue 12): the loss lives here, the
network (:class:`talkinghead.models.mouth.ClosureNet`). Driven by ``scripts/train_closure.py``."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..models.mouth import ClosureNet

__all__ = [
    "BILABIAL_LABELS",
    "frame_targets",
    "precision_recall",
    "average_precision",
    "speed_perturb",
    "train_closure",
]

#: Phone labels whose frames are the classifier's positives.
BILABIAL_LABELS = ("P", "B", "M")


def frame_targets(phones, n50: int) -> np.ndarray:
    """1 where the 50 Hz frame time ``0.02 i + 0.005`` s lies inside a /p b m/ segment
    (``start <= t < end``) of ``phones`` (``[(label, start, end), ...]`` or
    :class:`~talkinghead.audio.phones.Phone`), else 0; float32, shape (n50,)."""
    t = np.arange(int(n50)) * 0.02 + 0.005
    out = np.zeros(int(n50), np.float32)
    for p in phones:
        lab, s, e = (p.label, p.start, p.end) if hasattr(p, "label") else p
        if str(lab).upper() in BILABIAL_LABELS:
            out[(t >= float(s)) & (t < float(e))] = 1.0
    return out


def precision_recall(prob: np.ndarray, target: np.ndarray, threshold: float = 0.5):
    """Frame precision and recall of ``prob >= threshold`` against ``target`` (NaN where
    undefined)."""
    pred = np.asarray(prob) >= threshold
    t = np.asarray(target) > 0.5
    tp = float((pred & t).sum())
    prec = tp / pred.sum() if pred.sum() else float("nan")
    rec = tp / t.sum() if t.sum() else float("nan")
    return prec, rec


def average_precision(prob: np.ndarray, target: np.ndarray) -> float:
    """Average precision of the ranking ``prob`` against the binary ``target`` (the area under
    the precision-recall curve, threshold-free; NaN without positives). Ties are broken by
    order, as the sort leaves them."""
    p = np.asarray(prob, np.float64).reshape(-1)
    t = np.asarray(target).reshape(-1) > 0.5
    if p.shape != t.shape:
        raise InvalidArgumentError(f"prob.shape={p.shape} must equal target.shape={t.shape}")
    n_pos = int(t.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-p, kind="stable")
    hits = t[order]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / n_pos)


def speed_perturb(y: np.ndarray, phones, factor: float):
    """Speech played ``factor`` times faster (pitch and tempo together, the usual ASR
    perturbation): ``y`` (16 kHz, shape (n,)) resampled to about ``n / factor`` samples, and
    ``phones`` (``[(label, start, end), ...]``) with their times divided by ``factor``.
    Returns ``(y, phones)``; ``factor`` must lie in [0.5, 2]."""
    f = float(factor)
    if not 0.5 <= f <= 2.0:
        raise InvalidArgumentError(f"factor={factor!r} must be between 0.5 and 2")
    y = np.asarray(y, np.float32)
    if f != 1.0:
        import librosa

        y = librosa.resample(y, orig_sr=16000 * f, target_sr=16000, res_type="soxr_hq")
    ph = [(str(lab), float(s) / f, float(e) / f) for lab, s, e in phones]
    return y.astype(np.float32), ph


def train_closure(
    inputs: list[np.ndarray],
    targets: list[np.ndarray],
    *,
    config,
    weights=None,
    steps: int = 1500,
    batch: int = 8,
    crop: int = 200,
    lr: float = 2e-3,
    dropout: float = 0.3,
    pos_weight: float = 1.0,
    seed: int = 0,
    threads: int = 1,
    progress=None,
) -> ClosureNet:
    """Train the classifier (torch; seeded): binary cross-entropy on random crops of
    ``crop`` 50 Hz frames of the standardised input rows ``inputs[i]`` (T_i, in_dim) against
    ``targets[i]`` (T_i,) in {0, 1}; clips drawn with probability ``weights`` (default: by
    length). ``pos_weight``: the positives' weight (1: plain cross-entropy, so ``p`` is a
    calibrated probability). AdamW, one-cycle learning rate, input dropout ``dropout``.
    """
    import torch

    from ..models.mouth import build_torch

    if len(inputs) != len(targets) or not inputs:
        raise InvalidArgumentError(
            f"inputs ({len(inputs)}) and targets ({len(targets)}) must be equal, non-empty lists"
        )
    torch.set_num_threads(int(threads))
    torch.manual_seed(int(seed))
    rng = np.random.default_rng(int(seed))
    cfg = config
    drop_cfg = type(cfg).from_dict({**cfg.to_dict(), "dropout": float(dropout)})
    net = build_torch(drop_cfg)
    lengths = np.array([len(x) for x in inputs], np.float64)
    p = lengths if weights is None else np.asarray(weights, np.float64)
    p = p / p.sum()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=int(steps))
    lossf = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(float(pos_weight)), reduction="none")
    net.train()
    for step in range(int(steps)):
        xb = np.zeros((batch, cfg.in_dim, crop), np.float32)
        yb = np.zeros((batch, crop), np.float32)
        mb = np.zeros((batch, crop), np.float32)
        for b, i in enumerate(rng.choice(len(inputs), size=batch, p=p)):
            n = len(inputs[i])
            s = int(rng.integers(0, max(1, n - crop + 1)))
            e = min(n, s + crop)
            xb[b, :, : e - s] = inputs[i][s:e].T
            yb[b, : e - s] = targets[i][s:e]
            mb[b, : e - s] = 1.0
        out = net(torch.from_numpy(xb))[:, 0]
        m = torch.from_numpy(mb)
        loss = (lossf(out, torch.from_numpy(yb)) * m).sum() / m.sum().clamp(min=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if progress is not None and (step + 1) % 100 == 0:
            progress(step + 1, float(loss.detach()))
    net.eval()
    w = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    return ClosureNet(cfg, w)
