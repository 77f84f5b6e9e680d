"""Training recipe of the mouth model (mouth v2, :mod:`talkinghead.models.mouth`).

Data: prepared talking-face clips (``talkinghead prepare``: Face Mesh track + audio). Per
clip, cached once (:func:`cache_clip`, ``.npz`` written atomically, reused):

- ``feats`` (T50, F) float16: the front end's 50 Hz features of the clip's audio;
- ``dofs`` (T, 6): the six DOFs of :func:`talkinghead.face.articulation.mesh_dofs` at the
  video frames (NaN where no face);
- ``silent`` (T,): energy silence mask (-35 dB, as the held-out evaluation) for the rest
  statistics.

Targets: per-clip z-scores of the DOFs, linearly interpolated to the 50 Hz frame times;
frames whose nearest video frame has no face are masked. Loss: masked MSE, weighted per
DOF (:data:`DOF_WEIGHTS`: opening and width first). Training: AdamW with a one-cycle
schedule on random crops (``crop_s``), seeded; a resumable ``last/`` checkpoint
(:func:`talkinghead._util.checkpoint.save_last_checkpoint`) every ``save_every`` steps. Then
:class:`~talkinghead.face.articulation.DofStats` on the training clips and per-DOF quantile
calibration on the validation clips (never the test side).

torch is imported inside the training functions only.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "DOF_WEIGHTS",
    "LOSSES",
    "MouthClip",
    "cache_clip",
    "cache_file",
    "load_cached",
    "targets_50hz",
    "closed_50hz",
    "train_mouth",
    "crop_corr_loss",
    "ensemble_of",
    "CALIBRATIONS",
    "affine_map",
    "fit_calibration",
    "fit_open_calibration",
    "evaluate_clip",
    "read_val_clips",
    "list_clips",
    "frontend_fn",
    "clip_audio",
    "build_cache",
]

#: Loss weight of each DOF (open, width, upper_up, lower_down, smile, protrude).
DOF_WEIGHTS = (2.0, 1.5, 0.5, 0.5, 0.5, 0.5)
#: Training losses of :func:`train_mouth`: masked MSE to the per-clip z-scores, one minus
#: the Pearson r of each crop and DOF (scale- and offset-free, like the metric), or both.
LOSSES = ("mse", "corr", "mse+corr")


@dataclass
class MouthClip:
    """One cached training clip.

    Attributes
    ----------
    id, speaker, group : str
    fps : float
    feats : np.ndarray, float16, shape (T50, F)
    dofs : np.ndarray, float64, shape (T, 6)
    silent : np.ndarray of bool, shape (T,)
    n_samples : int
        Length of the 16 kHz audio.
    """

    id: str
    speaker: str
    group: str
    fps: float
    feats: np.ndarray
    dofs: np.ndarray
    silent: np.ndarray
    n_samples: int


def cache_file(cache_dir: str | os.PathLike, clip_id: str) -> Path:
    """The cache file of ``clip_id`` in ``cache_dir`` (characters other than letters, digits
    and ``-_.`` become ``_``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in clip_id)
    return Path(cache_dir) / f"{safe}.npz"


def cache_clip(
    *,
    clip_id: str,
    y16: np.ndarray,
    mesh: np.ndarray,
    valid: np.ndarray,
    fps: float,
    frontend,
    cache_dir: str | os.PathLike,
    speaker: str = "",
    group: str = "",
) -> MouthClip:
    """Compute (or reuse) one clip's cache; ``frontend(y16) -> (T50, F)``."""
    from .._util.atomic import save_npz_atomic
    from ..audio.energy import silence_mask_from_energy
    from ..face.articulation import mesh_dofs

    path = cache_file(cache_dir, clip_id)
    if path.is_file():
        return load_cached(path, speaker=speaker, group=group)
    y16 = np.asarray(y16, np.float32).reshape(-1)
    if len(y16) < 320:
        y16 = np.pad(y16, (0, 320 - len(y16)))
    feats = np.asarray(frontend(y16), np.float32)
    dofs = mesh_dofs(np.asarray(mesh, np.float64), valid)
    n = len(dofs)
    if np.max(np.abs(y16)) > 0:
        silent = silence_mask_from_energy(y=y16, sr=16000, fps=fps, n_frames=n, threshold_db=-35)
    else:
        silent = np.ones(n, bool)
    save_npz_atomic(
        path,
        feats=feats.astype(np.float16),
        dofs=dofs,
        silent=silent,
        fps=np.float64(fps),
        n_samples=np.int64(len(y16)),
        id=np.str_(clip_id),
    )
    return load_cached(path, speaker=speaker, group=group)


def load_cached(path: str | os.PathLike, *, speaker: str = "", group: str = "") -> MouthClip:
    """Read a cache written by :func:`cache_clip`."""
    with np.load(path) as z:
        return MouthClip(
            id=str(z["id"]),
            speaker=speaker,
            group=group,
            fps=float(z["fps"]),
            feats=z["feats"],
            dofs=z["dofs"],
            silent=z["silent"].astype(bool),
            n_samples=int(z["n_samples"]),
        )


def targets_50hz(clip: MouthClip) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip z-scored DOFs at the 50 Hz frame times, and their mask.

    Returns
    -------
    z : np.ndarray, float32, shape (T50, 6)
    mask : np.ndarray, float32, shape (T50, 6)
        1 where the target exists (the nearest video frame has a face).
    """
    from ..face.articulation import clip_zscores

    z, _, _ = clip_zscores(clip.dofs)
    T50 = len(clip.feats)
    t50 = np.arange(T50) / 50.0 + 0.005
    tv = np.arange(len(z)) / clip.fps
    out = np.zeros((T50, z.shape[1]), np.float32)
    mask = np.zeros_like(out)
    near = np.clip(np.round(t50 * clip.fps).astype(int), 0, len(z) - 1)
    for k in range(z.shape[1]):
        ok = np.isfinite(z[:, k])
        if ok.sum() < 2:
            continue
        out[:, k] = np.interp(t50, tv[ok], z[ok, k])
        mask[:, k] = ok[near] & (t50 <= tv[-1] + 0.5 / clip.fps)
    return out, mask


def closed_50hz(clip: MouthClip, threshold: float = 0.15, max_run_s: float = 0.3) -> np.ndarray:
    """Frames at 50 Hz where the tracked lips close inside speech (a closure, not a rest).

    A video frame is closed by the rule of the evaluation's /p b m/ score
    (:func:`talkinghead._util.stats.closed_frames`: the measured opening, DOF 0, in the
    lowest ``threshold`` of the clip's own range, 2nd to 98th percentile). Kept are the runs
    of closed frames that last at most ``max_run_s`` and have an open frame on both sides
    (a /p b m/ closure lasts ~50-150 ms; the rests before, after and between phrases are
    longer or touch the clip's ends), on frames that are not silent (``clip.silent``).
    Mapped to the 50 Hz frame times by the nearest video frame.

    Returns
    -------
    np.ndarray of bool, shape (T50,)
    """
    from .._util.stats import closed_frames

    o = np.asarray(clip.dofs, np.float64)[:, 0]
    closed = closed_frames(o, threshold=threshold)
    is_open = np.isfinite(o) & ~closed
    keep = np.zeros(len(o), bool)
    max_run = max(1, int(round(max_run_s * clip.fps)))
    i = 0
    while i < len(o):
        if not closed[i]:
            i += 1
            continue
        j = i
        while j < len(o) and closed[j]:
            j += 1
        if j - i <= max_run and i > 0 and j < len(o) and is_open[i - 1] and is_open[j]:
            keep[i:j] = True
        i = j
    keep &= ~np.asarray(clip.silent, bool)
    T50 = len(clip.feats)
    t50 = np.arange(T50) / 50.0 + 0.005
    near = np.clip(np.round(t50 * clip.fps).astype(int), 0, len(o) - 1)
    return keep[near] & (t50 <= (len(o) - 0.5) / clip.fps)


def _feature_stats(clips, utterance_norm: bool):
    from ..models.mouth import utterance_normalize

    s = s2 = 0.0
    n = 0
    for c in clips:
        x = c.feats.astype(np.float64)
        if utterance_norm:
            x = utterance_normalize(x)
        s = s + x.sum(0)
        s2 = s2 + (x * x).sum(0)
        n += len(x)
    mean = s / n
    return mean, np.sqrt(np.maximum(s2 / n - mean**2, 1e-8))


def train_mouth(
    train_clips: list[MouthClip],
    *,
    config,
    student=None,
    prior=None,
    out_dir: str | os.PathLike,
    steps: int = 3000,
    batch: int = 16,
    crop_s: float = 6.0,
    lr: float = 2e-3,
    weight_decay: float = 1e-2,
    seed: int = 0,
    save_every: int = 250,
    threads: int = 1,
    progress=None,
    dof_weights=None,
    clip_weights=None,
    loss: str = "mse",
    close_weight: float = 0.0,
):
    """Train a :class:`~talkinghead.models.mouth.MouthModel` (resumable from ``out_dir/last``).

    Parameters
    ----------
    train_clips : list of MouthClip
    config : MouthConfig
    student : SpeechStudent, optional
        Stored with the model when ``config.frontend == "student"``.
    prior : DefaultModel, optional
        The ridge read-out whose opening is the last input column (``config.prior``; the
        clips' ``feats`` must already hold that column, see
        :func:`talkinghead.models.mouth.append_prior`).
    out_dir : path
        ``last/`` (resumable state) is kept here.
    steps, batch, crop_s, lr, weight_decay, seed, save_every, threads
        Optimisation settings (crops of ``crop_s`` seconds at 50 Hz).
    progress : callable, optional
        ``progress(step, loss)`` every 50 steps.
    dof_weights : sequence of float, optional
        Loss weight per DOF (default :data:`DOF_WEIGHTS`).
    clip_weights : sequence of float, optional
        Sampling weight per clip (default: its length, so every frame is equally likely).
    loss : {"mse", "corr", "mse+corr"}
        ``"mse"``: masked mean squared error to the per-clip z-scores; ``"corr"``: the
        weighted mean over crops and DOFs of ``1 - r`` (:func:`crop_corr_loss`, Pearson r
        of the output and the target within each crop, what the per-clip metric rewards);
        ``"mse+corr"``: their sum. The quantile calibration fitted afterwards restores the
        z-score scale either way.
    close_weight : float
        Closure-aware MSE (issue 12, /p b m/): the opening's squared error weighs
        ``1 + close_weight`` on the frames where the tracked lips close inside speech
        (:func:`closed_50hz`: the evaluation's closed-frame rule, runs of at most 0.3 s
        between open frames). 0 (default): the recipe unchanged, bit for bit. Needs an MSE
        term (``loss`` "mse" or "mse+corr").

    Returns
    -------
    MouthModel
        With DOF statistics of the training clips (no calibration yet).
    """
    import torch

    from .._util.checkpoint import TRAINER_STATE, find_last_checkpoint, save_last_checkpoint
    from ..face.articulation import DofStats
    from ..models.mouth import MouthModel

    if not train_clips:
        raise InvalidArgumentError("train_clips must not be empty")
    if loss not in LOSSES:
        raise InvalidArgumentError(f"loss={loss!r} must be one of {LOSSES}")
    close_weight = float(close_weight)
    if not np.isfinite(close_weight) or close_weight < 0:
        raise InvalidArgumentError(f"close_weight={close_weight!r} must be >= 0")
    if close_weight > 0 and loss == "corr":
        raise InvalidArgumentError(
            f"close_weight={close_weight!r} must be 0 with loss='corr' (it weights the MSE term)"
        )
    torch.set_num_threads(int(threads))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fm, fs = _feature_stats(train_clips, config.utterance_norm)
    stats = DofStats.fit([c.dofs for c in train_clips], [c.silent for c in train_clips])
    torch.manual_seed(seed)
    model = MouthModel(
        config, None, feature_mean=fm, feature_scale=fs, dof_stats=stats, student=student,
        prior=prior,
    )  # fmt: skip
    net = model.net
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    start = 0
    last = find_last_checkpoint(out_dir)
    if last is not None:
        st = torch.load(last / "state.pt", weights_only=False)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        start = int(json.loads((last / TRAINER_STATE).read_text())["step"])
    # pre-normalised inputs and targets, kept in memory (float32)
    xs, ys, ms, cs = [], [], [], []
    for c in train_clips:
        xs.append(model.normalize(c.feats.astype(np.float32)).astype(np.float32))
        t, m = targets_50hz(c)
        ys.append(t)
        ms.append(m)
        if close_weight > 0:
            cs.append(closed_50hz(c).astype(np.float32))
    lengths = np.array([len(x) for x in xs])
    if clip_weights is None:
        prob = lengths / lengths.sum()
    else:
        cw = np.asarray(clip_weights, np.float64).reshape(-1)
        if cw.shape != lengths.shape or not np.all(cw >= 0) or cw.sum() <= 0:
            raise InvalidArgumentError(
                f"clip_weights must hold {len(lengths)} non-negative weights, not all zero"
            )
        prob = cw / cw.sum()
    dw = DOF_WEIGHTS if dof_weights is None else tuple(float(v) for v in dof_weights)
    if len(dw) < config.n_out:
        raise InvalidArgumentError(f"dof_weights={dw} must hold n_out={config.n_out} weights")
    w = torch.tensor(dw[: config.n_out], dtype=torch.float32)[None, :, None]
    L = config.lookahead or 0
    crop = int(crop_s * 50)
    rng = np.random.default_rng(seed + start)
    net.train()
    t0 = time.time()
    for step in range(start, steps):
        xb = np.zeros((batch, config.in_dim, crop + L), np.float32)
        yb = np.zeros((batch, config.n_out, crop), np.float32)
        mb = np.zeros_like(yb)
        cb = np.zeros((batch, crop), np.float32) if close_weight > 0 else None
        for b in range(batch):
            i = rng.choice(len(xs), p=prob)
            n = lengths[i]
            s = int(rng.integers(0, max(1, n - crop + 1)))
            seg = xs[i][s : s + crop + L]
            xb[b, :, : len(seg)] = seg.T
            k = min(crop, n - s)
            yb[b, :, :k] = ys[i][s : s + k].T
            mb[b, :, :k] = ms[i][s : s + k].T
            if cb is not None:
                cb[b, :k] = cs[i][s : s + k]
        out = net(torch.from_numpy(xb))[:, :, L : L + crop]
        yt, mt = torch.from_numpy(yb), torch.from_numpy(mb)
        value = 0.0
        if loss in ("mse", "mse+corr"):
            wt = w
            if cb is not None:  # the opening (DOF 0) weighs 1 + close_weight on closed frames
                wt = w.expand(batch, config.n_out, crop).clone()
                wt[:, 0] = wt[:, 0] * (1.0 + close_weight * torch.from_numpy(cb))
            value = ((out - yt) ** 2 * mt * wt).sum() / mt.sum().clamp(min=1.0)
        if loss in ("corr", "mse+corr"):
            value = value + crop_corr_loss(out, yt, mt, w[:, :, 0])
        opt.zero_grad()
        value.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if progress is not None and (step + 1) % 50 == 0:
            progress(step + 1, float(value.detach()), time.time() - t0)
        if (step + 1) % save_every == 0 or step + 1 == steps:

            def write(folder, step=step):
                folder.mkdir(parents=True)
                torch.save(
                    {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()},
                    folder / "state.pt",
                )
                (folder / TRAINER_STATE).write_text(json.dumps({"step": step + 1}))
                (folder / "config.json").write_text(json.dumps(config.to_dict()))

            save_last_checkpoint(out_dir, write)
    net.eval()
    model.pull_weights()
    model.meta.update(
        {
            "steps": steps,
            "seed": seed,
            "n_train_clips": len(train_clips),
            "loss": loss,
            "train_frames_50hz": int(lengths.sum()),
        }
    )
    if close_weight > 0:
        model.meta["close_weight"] = close_weight
        model.meta["closed_share_50hz"] = float(
            sum(float(c.sum()) for c in cs) / max(1, int(lengths.sum()))
        )
    return model


def crop_corr_loss(out, target, mask, weights, min_frames: int = 10):
    """Weighted mean of ``1 - r`` over crops and DOFs (torch; training only).

    ``r`` is the Pearson correlation of ``out`` and ``target`` over the masked frames of
    one crop and one DOF; crops with fewer than ``min_frames`` masked frames or a flat
    target are left out.

    Parameters
    ----------
    out, target, mask : torch.Tensor, shape (B, K, T)
    weights : torch.Tensor, shape (1, K)
        Weight of each DOF.

    Returns
    -------
    torch.Tensor, scalar
        0 when every kept crop correlates perfectly; 0 as well when none is kept.
    """
    n = mask.sum(-1)
    keep_n = n.clamp(min=1.0)
    mo = (out * mask).sum(-1) / keep_n
    mt = (target * mask).sum(-1) / keep_n
    do = (out - mo[..., None]) * mask
    dt = (target - mt[..., None]) * mask
    vo, vt = (do * do).sum(-1), (dt * dt).sum(-1)
    r = (do * dt).sum(-1) / (vo * vt + 1e-8).sqrt()
    keep = ((n >= min_frames) & (vt > 1e-6 * keep_n)).to(out.dtype) * weights
    return ((1.0 - r) * keep).sum() / keep.sum().clamp(min=1e-6)


def ensemble_of(models, *, mixed: bool = False):
    """One :class:`~talkinghead.models.mouth.MouthModel` averaging the outputs of several
    trained on the same clips with the same config (e.g. other seeds of
    :func:`train_mouth`): the first model with the others' networks as ``members``.

    A causal ensemble streams too (:class:`talkinghead.streaming.MouthAnimator` runs every
    member's causal convolutions and averages them as :meth:`MouthModel.network` does).

    ``mixed=True`` also accepts models trained on other clips (e.g. with and without
    train-only data): the same architecture and front end (``prior_blend``, ``dropout`` and
    the gate settings may differ: the first model's are kept); a member's own feature
    standardisation is folded into its input convolution (exact: ``(x - m) / s = a (x -
    m0) / s0 + b``), and the ensemble keeps the first model's standardisation and DOF
    statistics (refit the calibration and the blend on validation clips afterwards, as
    ``train_mouth.py`` does).

    Raises
    ------
    InvalidArgumentError
        Empty, or models whose config, feature standardisation or DOF statistics differ
        (with ``mixed``: whose architecture or front end differ).
    """
    from ..models.mouth import MouthModel

    models = list(models)
    if not models:
        raise InvalidArgumentError("models must hold at least one MouthModel")
    first = models[0]

    def arch(m):
        d = m.config.to_dict()
        free = ("prior_blend", "dropout", "gate_db", "gate_floor_db", "gate_ref_db")
        return {k: v for k, v in d.items() if k not in free} if mixed else d

    for i, m in enumerate(models[1:], start=1):
        same = arch(m) == arch(first) and (
            mixed
            or (
                np.array_equal(m.feature_mean, first.feature_mean)
                and np.array_equal(m.feature_scale, first.feature_scale)
                and m.dof_stats.to_dict() == first.dof_stats.to_dict()
            )
        )
        if not same:
            raise InvalidArgumentError(
                f"models[{i}] must share the config, feature standardisation and DOF "
                "statistics of models[0] (the same recipe on the same clips)"
                + (" or with mixed=True its architecture and front end" if mixed else "")
            )
    for m in models:
        if m._net is not None:
            m.pull_weights()
    members = []
    for m in models[1:]:
        for w in [m.weights, *m.members]:
            members.append(_fold_standardisation(w, m, first))
    out = MouthModel(
        first.config, first.weights, feature_mean=first.feature_mean,
        feature_scale=first.feature_scale, dof_stats=first.dof_stats, student=first.student,
        prior=first.prior, causal=first.causal, meta=dict(first.meta), members=members,
    )  # fmt: skip
    out.meta["ensemble"] = 1 + len(out.members)
    return out


def _fold_standardisation(w: dict, model, target) -> dict:
    """``w`` (a network of ``model``) reading ``target``'s standardised input instead of
    ``model``'s: ``(x - m) / s = a (x - m0) / s0 + b`` with ``a = s0 / s``, ``b = (m0 - m) /
    s``, folded into the 1x1 input convolution."""
    if np.array_equal(model.feature_mean, target.feature_mean) and np.array_equal(
        model.feature_scale, target.feature_scale
    ):
        return w
    a = target.feature_scale.astype(np.float64) / model.feature_scale.astype(np.float64)
    b = (target.feature_mean.astype(np.float64) - model.feature_mean) / model.feature_scale
    W = np.asarray(w["inp.weight"], np.float64)[:, :, 0]
    out = dict(w)
    out["inp.weight"] = (W * a[None, :])[:, :, None].astype(np.float32)
    out["inp.bias"] = (np.asarray(w["inp.bias"], np.float64) + W @ b).astype(np.float32)
    return out


#: Kinds of per-DOF calibration of :func:`fit_calibration`.
CALIBRATIONS = ("quantile", "affine")


def affine_map(pred: np.ndarray, true: np.ndarray, n: int = 101) -> np.ndarray:
    """A straight-line map (2, n) in the format of a quantile map: pooled ``pred`` -> the
    mean and spread of pooled ``true``, over +-50 spreads of ``pred`` (so ``np.interp``
    never clamps in practice). Order- and shape-preserving: per-clip r is unchanged."""
    p = np.asarray(pred, np.float64)
    t = np.asarray(true, np.float64)
    mp, sp = float(p.mean()), max(float(p.std()), 1e-9)
    b = float(t.std()) / sp
    x = np.linspace(mp - 50 * sp, mp + 50 * sp, int(n))
    return np.stack([x, float(t.mean()) + b * (x - mp)])


def fit_calibration(model, clips: list[MouthClip], n: int = 101, kind="quantile") -> np.ndarray:
    """Per-DOF maps (n_out, 2, n) from the network's outputs to the real z-scores, pooled
    over ``clips`` (validation clips of the training side).

    ``kind``: ``"quantile"`` (monotone quantile maps, :func:`calibrate_zscore`: the real
    distribution, closures at its floor), ``"affine"`` (:func:`affine_map`: mean and spread
    only, per-clip r unchanged), or a sequence of those, one per DOF."""
    from ..models.default import calibrate_zscore

    preds, trues = [], []
    for c in clips:
        p = model.raw_outputs(c.feats.astype(np.float32))
        t, m = targets_50hz(c)
        ok = m.min(1) > 0
        preds.append(p[ok])
        trues.append(t[ok])
    p, t = np.concatenate(preds), np.concatenate(trues)
    kinds = [kind] * p.shape[1] if isinstance(kind, str) else list(kind)
    if len(kinds) != p.shape[1] or any(k not in CALIBRATIONS for k in kinds):
        raise InvalidArgumentError(
            f"kind={kind!r} must be one of {CALIBRATIONS} or {p.shape[1]} of them"
        )
    fit = {"quantile": calibrate_zscore, "affine": affine_map}
    return np.stack([fit[kinds[k]](p[:, k], t[:, k], n) for k in range(p.shape[1])])


def fit_open_calibration(model, clips: list[MouthClip], n: int = 101) -> np.ndarray:
    """Quantile map (2, n) from the model's final opening (after calibration and the prior
    blend, without any ``open_calibration``) to the real opening z-scores, pooled over
    ``clips`` (validation clips of the training side)."""
    from ..models.default import calibrate_zscore

    keep, model.open_calibration = model.open_calibration, None
    try:
        preds, trues = [], []
        for c in clips:
            p = model.predict_dofs(c.feats.astype(np.float32))[:, 0]
            t, m = targets_50hz(c)
            ok = m[:, 0] > 0
            preds.append(p[ok])
            trues.append(t[ok, 0])
    finally:
        model.open_calibration = keep
    return calibrate_zscore(np.concatenate(preds), np.concatenate(trues), n)


def evaluate_clip(model, clip: MouthClip) -> dict:
    """Quick per-clip scores at 50 Hz (r of each DOF vs the truth); for model selection."""
    from .._util.stats import pearson_r

    p = model.predict_dofs(clip.feats.astype(np.float32))
    t, m = targets_50hz(clip)
    from ..face.articulation import DOF_NAMES

    out = {}
    for k, name in enumerate(DOF_NAMES[: p.shape[1]]):
        ok = m[:, k] > 0
        out[name] = pearson_r(p[ok, k], t[ok, k]) if ok.sum() > 10 else float("nan")
    return out


def read_val_clips(path: str | os.PathLike) -> list[str]:
    """Validation clip ids fixed elsewhere: a checkpoint folder (its ``config.json``'s
    ``meta.val_clips``), such a ``config.json``, or a JSON file holding a list of ids
    (``scripts/mouth_v2_val_clips.json``: the 59 clips that chose the shipped settings).

    Raises
    ------
    InvalidArgumentError
        The file is missing or holds neither a list of ids nor ``meta.val_clips``.
    """
    p = Path(path)
    f = p / "config.json" if p.is_dir() else p
    if not f.is_file():
        raise InvalidArgumentError(f"path={str(path)!r} must be a checkpoint folder or a JSON file")
    d = json.loads(f.read_text(encoding="utf-8"))
    ids = d if isinstance(d, list) else (d.get("meta") or {}).get("val_clips")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidArgumentError(
            f"path={str(path)!r} must hold a JSON list of clip ids or meta.val_clips"
        )
    return list(ids)


# -- prepared clips -> cached training clips (shared by scripts/train_mouth.py and
# scripts/train_closure.py) --


def list_clips(prepared_dirs, *, ok_only: bool = True):
    """[(prepared dir, clip dict, recording dict)] of every ok clip (``ok_only=False``: of
    every clip of a listed recording, whatever its status)."""
    out = []
    for d in prepared_dirs:
        d = Path(d)
        recs = {}
        for line in (d / "recordings.jsonl").read_text().splitlines():
            try:
                r = json.loads(line)
                recs[r["id"]] = r
            except (json.JSONDecodeError, KeyError):
                continue
        for line in (d / "clips.jsonl").read_text().splitlines():
            try:
                c = json.loads(line)
            except json.JSONDecodeError:
                continue
            if c.get("recording") not in recs:
                continue
            if ok_only and (
                c.get("status") != "ok" or not c.get("path") or not (d / c["path"]).is_file()
            ):
                continue
            out.append((d, c, recs[c["recording"]]))
    return out


def frontend_fn(name: str, causal_dir=None, *, student_dir=None):
    """``(fn, model)``: the front end ``name`` (student, causal, mel, whisper) as ``fn(y16)``.

    ``student_dir``: the student checkpoint of ``"student"`` (default: the shipped one,
    ``data/default_fast/student``)."""
    from ..audio.whisper import encoder_frames
    from ..models.default import FAST_DIR
    from ..models.mouth import causal_frames, mel_frames, student_frames
    from ..models.student import SpeechStudent

    if name == "causal":
        from ..models.causal_default import CausalDefaultModel

        cm = CausalDefaultModel.from_pretrained(causal_dir)
        return (lambda y: causal_frames(cm, y)), cm
    if name == "mel":
        return mel_frames, None
    if name == "whisper":
        return encoder_frames, None
    st = SpeechStudent.from_pretrained(student_dir or FAST_DIR / "student")
    return (lambda y: student_frames(st, y)), st


def clip_audio(clip: dict, rec: dict, *, audio: dict | None = None, log=print):
    """The 16 kHz samples of a prepared clip (``clip``/``rec``: :func:`list_clips` dicts), or
    None where its recording names no media or the media cannot be read (logged).
    ``audio``: a one-recording cache ``{path: samples}`` shared across calls (clips of one
    recording come in a row)."""
    from ..audio.io import load_audio

    audio = {} if audio is None else audio
    src = rec.get("audio") or rec.get("video")
    if not src:
        return None
    if src not in audio:
        audio.clear()
        try:
            audio[src] = load_audio(src, sr=16000)[0]
        except Exception as e:  # unreadable audio: skip this recording's clips
            log(f"  skip {clip['id']}: {e}")
            audio[src] = None
    y = audio[src]
    if y is None:
        return None
    fps = float(clip["fps"])
    a = int(round(clip.get("start_frame", 0) / fps * 16000))
    b = int(round((clip.get("start_frame", 0) + clip["n_frames"]) / fps * 16000))
    return y[a:b]


def build_cache(
    items, frontend: str, cache: Path, log=print, causal_dir=None, group_fn=None, student_dir=None
):
    """Cached training clips (:func:`cache_clip`) of ``items`` (:func:`list_clips` rows) and
    the front end's model; unreadable audio is logged and its clips left out.
    ``group_fn(rec)``: each clip's source group (default ``""``; the scripts pass
    ``evaluate.splits.recording_group``). ``student_dir``: another student than the
    shipped one (:func:`frontend_fn`; give it its own ``cache``).
    """
    from ..corpora.people import recording_person

    cache.mkdir(parents=True, exist_ok=True)
    fn, student = frontend_fn(frontend, causal_dir, student_dir=student_dir)
    audio = {}
    clips = []
    t0 = time.time()
    for i, (d, c, rec) in enumerate(items):
        path = cache_file(cache, c["id"])
        spk, grp = recording_person(rec), (group_fn(rec) if group_fn is not None else "")
        if path.is_file():
            clips.append(load_cached(path, speaker=spk, group=grp))
            continue
        y16 = clip_audio(c, rec, audio=audio, log=log)
        if y16 is None:
            continue
        fps = float(c["fps"])
        with np.load(d / c["path"]) as z:
            mesh, valid = z["mesh"], z["valid"].astype(bool)
        clips.append(
            cache_clip(
                clip_id=c["id"],
                y16=y16,
                mesh=mesh,
                valid=valid,
                fps=fps,
                frontend=fn,
                cache_dir=cache,
                speaker=spk,
                group=grp,
            )
        )
        if (i + 1) % 100 == 0:
            log(f"  cached {i + 1}/{len(items)} clips ({time.time() - t0:.0f} s)")
    return clips, student
