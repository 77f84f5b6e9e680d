"""A frame classifier of /p b m/ for the mouth model's closures (issue 12).

p(bilabial) per 50 Hz frame, read from the *same* standardised input rows the mouth network
reads (:meth:`talkinghead.models.mouth.MouthModel.normalize` of the student features and
the prior column): no second front end. The network is the mouth network's architecture
(:func:`talkinghead.models.mouth.build_torch`: conv 1x1 -> residual dilated convolutions ->
conv 1x1) with one output, a logit; numpy inference through the same fast stack
(:func:`talkinghead.models.mouth.forward_fast`). Trained on forced-aligned phone labels of
the training side (``scripts/train_closure.py``, :func:`train_closure`); used by
:class:`~talkinghead.models.mouth.MouthModel` when ``config.closure_gain`` is set: the lips
close in proportion to ``closure_gain * p`` (:meth:`MouthModel.__call__`).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "BILABIAL_LABELS",
    "ClosureNet",
    "closure_config",
    "frame_targets",
    "train_closure",
    "precision_recall",
]

#: Phone labels whose frames are the classifier's positives.
BILABIAL_LABELS = ("P", "B", "M")


def closure_config(in_dim: int, *, channels: int = 32, dilations=(1, 2, 4, 8, 1), kernel: int = 5):
    """The classifier's architecture: a :class:`~talkinghead.models.mouth.MouthConfig` with
    one output (only ``in_dim``, ``channels``, ``kernel``, ``dilations`` and ``n_out``
    matter; centred convolutions)."""
    from .mouth import MouthConfig

    return MouthConfig(in_dim=int(in_dim), channels=int(channels), kernel=int(kernel),
                       dilations=list(dilations), n_out=1, prior=False)  # fmt: skip


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


class ClosureNet:
    """The classifier: ``weights`` (the torch module's state_dict as arrays) of
    :func:`closure_config` ``config``.

    :meth:`prob` maps standardised input rows (T, in_dim) to p(/p b m/) (T,), float64.
    """

    def __init__(self, config, weights: dict) -> None:
        if config.n_out != 1:
            raise InvalidArgumentError(f"config.n_out={config.n_out} must be 1 (one logit)")
        self.config = config
        self.weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        c = config.channels
        want = {"inp.weight": (c, config.in_dim, 1), "inp.bias": (c,),
                "out.weight": (1, c, 1), "out.bias": (1,)}  # fmt: skip
        for i in range(len(config.dilations)):
            want[f"blocks.{i}.conv.weight"] = (c, c, config.kernel)
            want[f"blocks.{i}.conv.bias"] = (c,)
        for k, shape in want.items():
            got = self.weights[k].shape if k in self.weights else None
            if got != shape:
                raise InvalidArgumentError(f"closure weights[{k!r}].shape={got} must be {shape}")
        self._fast = None

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits on standardised rows ``x`` (T, in_dim), shape (T,), float32."""
        from .._util.winograd import KERNELS
        from .mouth import _forward_numpy, fast_weights, forward_fast

        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] != self.config.in_dim:
            raise InvalidArgumentError(f"x.shape={x.shape} must be (T, {self.config.in_dim})")
        if not len(x):
            return np.zeros(0, np.float32)
        if self.config.kernel in KERNELS:
            if self._fast is None:
                self._fast = fast_weights([self.weights], self.config)
            return forward_fast(self._fast, self.config, x)[:, 0]
        return _forward_numpy(self.weights, self.config, np.ascontiguousarray(x.T))[0]

    def prob(self, x: np.ndarray) -> np.ndarray:
        """p(/p b m/) per row of ``x``, shape (T,), float64."""
        z = np.asarray(self.logits(x), np.float64)
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, overflow-free


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

    from .mouth import build_torch

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


def precision_recall(prob: np.ndarray, target: np.ndarray, threshold: float = 0.5):
    """Frame precision and recall of ``prob >= threshold`` against ``target`` (NaN where
    undefined)."""
    pred = np.asarray(prob) >= threshold
    t = np.asarray(target) > 0.5
    tp = float((pred & t).sum())
    prec = tp / pred.sum() if pred.sum() else float("nan")
    rec = tp / t.sum() if t.sum() else float("nan")
    return prec, rec
