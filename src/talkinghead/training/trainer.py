"""The training loop shared by every recipe: seeded, resumable, early stopping, DDP.

``train(recipe, corpus_dir, model_dir, ...)`` writes::

    MODEL_DIR/config.json, model.safetensors, normalizer.json, target.safetensors
                                the best model so far (SequenceModel.from_pretrained)
    MODEL_DIR/training_log.jsonl one line per epoch (losses, lr, frames/s, time)
    MODEL_DIR/splits.json       recording ids per split, when the run follows a protocol
                                 (``TrainConfig.splits``; ``talkinghead evaluate`` reads it)
    MODEL_DIR/last/              the latest epoch: the model files plus optimizer.pt and
                                 trainer_state.json; a rerun continues from here

Determinism: the model is initialised from ``seed``; epoch ``e`` draws its windows
from ``(seed, e)`` and reseeds torch (dropout) with ``seed * 100003 + e``, so a run
stopped after any epoch and resumed gives the same weights as an uninterrupted run.

Distributed: when ``torch.distributed`` is initialised (``torchrun``, see
:mod:`talkinghead.training.ddp_entry`) the model is wrapped in DistributedDataParallel,
each process trains on its share of every epoch's windows, every process validates
(identically) and process 0 writes the files.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .._util.atomic import write_text_atomic
from .._util.checkpoint import TRAINER_STATE, find_last_checkpoint, save_last_checkpoint
from ..audio.normalize import FeatureNormalizer
from ..errors import CheckpointError, InvalidArgumentError, TalkingHeadError
from ..models.sequence import SequenceModel, TargetTransform
from .data import ClipData, SequenceDataset, collate, load_clips, shift_targets

__all__ = ["TrainConfig", "TrainResult", "train", "prepare_examples", "SPLITS_FILE"]

_STATE = TRAINER_STATE
#: Recording ids per split of a protocol run, next to the checkpoint.
SPLITS_FILE = "splits.json"


@dataclass
class TrainConfig:
    """Options of :func:`train` (None: the recipe's default)."""

    topology: str | None = None
    epochs: int | None = None
    seed: int = 0
    delay_ms: float = 0.0
    max_clips: int | None = None
    batch_size: int | None = None
    window_seconds: float | None = None
    patience: int | None = None
    lr: float | None = None
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0
    num_threads: int | None = None
    max_steps_per_epoch: int | None = None
    #: Recording ids per split (a paper's protocol); None: the fractions above.
    splits: dict | None = None
    #: ``{"recipe", "name", "deviations"}`` of the protocol the run follows (saved in
    #: the checkpoint's ``meta["protocol"]``; the splits go to ``MODEL_DIR/splits.json``).
    protocol: dict | None = None

    def identity(self) -> dict:
        """The options a resumed run must share with the run it continues."""
        keys = ("topology", "seed", "delay_ms", "max_clips", "batch_size", "window_seconds",
                "lr", "valid_fraction", "test_fraction", "split_seed")  # fmt: skip
        out = {k: getattr(self, k) for k in keys}
        if self.protocol is not None:  # absent otherwise: older runs resume unchanged
            out["protocol"] = self.protocol.get("name")
        return out


@dataclass
class TrainResult:
    """Outcome of :func:`train`: epochs run in total, best epoch and validation loss."""

    model_dir: Path
    epochs_done: int
    best_epoch: int
    best_valid_loss: float
    stopped_early: bool
    train_frames_per_s: float


def _corpus_sr(corpus_dir) -> int:
    """The audio analysis rate of a prepared corpus (``prepare --sr``; 16 kHz if unknown)."""
    qc = Path(corpus_dir) / "qc_report.json"
    try:
        sr = (json.loads(qc.read_text(encoding="utf-8")).get("options") or {}).get("sr")
    except (OSError, json.JSONDecodeError, AttributeError):
        sr = None
    return int(sr or 16000)


def _log(msg: str, log: Callable | None) -> None:
    if log is not None:
        log(msg)


def prepare_examples(recipe, clips: list[ClipData], log=None):
    """``(x, y_raw, mask)`` per clip; clips whose inputs or targets fail are skipped."""
    out = []
    for c in clips:
        try:
            x = np.asarray(recipe.inputs(c), np.float32)
            y, m = recipe.targets(c)
        except TalkingHeadError as e:
            _log(f"skipping clip {c.id!r}: {e}", log)
            continue
        finally:
            c.clear()
        n = min(len(x), len(y))
        m = np.asarray(m[:n], bool) & np.all(np.isfinite(y[:n]), axis=1)
        out.append((x[:n], np.asarray(y[:n], np.float32), m))
    return out


def _encode(examples, normalizer: FeatureNormalizer, transform: TargetTransform, delay: int):
    xs, ys, ms = [], [], []
    for x, y, m in examples:
        z = transform.encode(np.where(m[:, None], y, np.nan_to_num(y)))
        z[~m] = 0.0
        z, m2 = shift_targets(z, m, delay)
        xs.append(normalizer.transform(x).astype(np.float32))
        ys.append(z.astype(np.float32))
        ms.append(m2)
    return xs, ys, ms


def _dist():
    d = torch.distributed
    if d.is_available() and d.is_initialized():
        return d.get_rank(), d.get_world_size()
    return 0, 1


@torch.no_grad()
def _evaluate(model, recipe, xs, ys, ms, batch: int = 16) -> float:
    model.eval()
    num = den = 0.0
    order = np.argsort([len(x) for x in xs])
    for i in range(0, len(order), batch):
        items = [(xs[j], ys[j], ms[j]) for j in order[i : i + batch]]
        x, y, m, lengths = collate(items)
        pred = model(x, lengths)
        n = float(m.sum())
        num += float(recipe.loss(pred, y, m)) * max(n, 1.0)
        den += n
    return num / den if den else float("nan")


def _save_last(model_dir: Path, model: SequenceModel, opt, state: dict, recipe=None) -> None:
    def write(new: Path) -> None:
        model.save_pretrained(new)
        if recipe is not None:
            recipe.save_files(new)
        torch.save(opt.state_dict(), new / "optimizer.pt")
        write_text_atomic(new / _STATE, json.dumps(state, indent=1) + "\n")

    save_last_checkpoint(model_dir, write)


_find_last = find_last_checkpoint


def train(
    recipe,
    corpus_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    config: TrainConfig | None = None,
    *,
    log: Callable[[str], None] | None = print,
) -> TrainResult:
    """Train ``recipe`` on a prepared corpus; resume from ``model_dir/last`` if present.

    Parameters
    ----------
    recipe : talkinghead.recipes.base.Recipe
        Built with the same ``delay_ms`` as ``config.delay_ms``.
    corpus_dir : path
        A ``talkinghead prepare`` folder (speaker-disjoint train/valid splits).
    model_dir : path
        Output folder (see the module docstring).
    config : TrainConfig
    log : callable or None
        Progress messages (process 0 only).

    Returns
    -------
    TrainResult

    Raises
    ------
    InvalidArgumentError
        Bad options, no usable training clip, or ``model_dir`` holds a run with other
        options.
    """
    cfg = config or TrainConfig()
    rank, world = _dist()
    log = log if rank == 0 else None
    if cfg.num_threads:
        torch.set_num_threads(int(cfg.num_threads))
    model_dir = Path(model_dir)
    epochs = int(cfg.epochs if cfg.epochs is not None else recipe.epochs)
    patience = int(cfg.patience if cfg.patience is not None else recipe.patience)
    batch_size = int(cfg.batch_size or recipe.batch_size)
    if epochs < 1 or patience < 1 or batch_size < 1:
        raise InvalidArgumentError(
            f"epochs={epochs}, patience={patience}, batch_size={batch_size} must all be >= 1"
        )
    if cfg.lr is not None:
        recipe.lr = float(cfg.lr)

    # ---------------------------------------------------------------- resume?
    last = _find_last(model_dir)
    state = None
    if last is not None:
        state = json.loads((last / _STATE).read_text(encoding="utf-8"))
        same = {"recipe": recipe.name, **cfg.identity()}
        if state.get("identity") != same:
            raise InvalidArgumentError(
                f"model_dir='{model_dir}' holds a run with options {state.get('identity')}; "
                f"this run has {same}: use another output folder, or the same options"
            )

    # ---------------------------------------------------------------- data
    split_kw = dict(
        valid=cfg.valid_fraction, test=cfg.test_fraction, seed=cfg.split_seed, splits=cfg.splits
    )
    train_clips = load_clips(corpus_dir, "train", max_clips=cfg.max_clips, **split_kw)
    valid_clips = load_clips(corpus_dir, "valid", max_clips=cfg.max_clips, **split_kw)
    if cfg.splits is not None and rank == 0:  # `evaluate` scores the same test split
        model_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(model_dir / SPLITS_FILE, json.dumps(cfg.splits, indent=1) + "\n")
    if not valid_clips and len(train_clips) >= 2:
        valid_clips = [train_clips.pop()]
        _log(f"no validation split: validating on clip {valid_clips[0].id!r}", log)
    if not train_clips:
        raise InvalidArgumentError(
            f"corpus_dir='{corpus_dir}' must hold at least one accepted training clip"
        )
    fps = [c.fps for c in train_clips + valid_clips]
    if max(fps) > 1.01 * min(fps) and recipe.delay_ms > 0:
        raise InvalidArgumentError(
            f"delay_ms={recipe.delay_ms} needs one frame rate; the clips have {min(fps)} to "
            f"{max(fps)} fps"
        )
    fps0 = float(np.median(fps))
    delay = recipe.delay_frames(fps0)
    if state is not None:
        recipe.load_state(state["recipe_state"])
        recipe.load_files(last)
    else:
        recipe.fit(train_clips, None)
    t0 = time.perf_counter()
    tr = prepare_examples(recipe, train_clips, log)
    va = prepare_examples(recipe, valid_clips, log)
    _log(f"built {len(tr)} training and {len(va)} validation examples in "
         f"{time.perf_counter() - t0:.1f} s", log)  # fmt: skip
    if not tr or not va:
        raise InvalidArgumentError(
            f"corpus_dir='{corpus_dir}' gave {len(tr)} usable training and {len(va)} "
            "validation clips; both must be >= 1"
        )
    if state is not None:
        normalizer = FeatureNormalizer.load(last / "normalizer.json")
        from safetensors.torch import load_file

        transform = TargetTransform.from_tensors(load_file(str(last / "target.safetensors")))
    else:
        normalizer = FeatureNormalizer.fit([x for x, _, _ in tr])
        transform = recipe.fit_target_transform([y for _, y, _ in tr], [m for _, _, m in tr])
    xs, ys, ms = _encode(tr, normalizer, transform, delay)
    vxs, vys, vms = _encode(va, normalizer, transform, delay)
    window = max(1, int(round((cfg.window_seconds or recipe.window_seconds) * fps0)))
    data = SequenceDataset(xs, ys, ms, window=window, seed=cfg.seed)

    # ---------------------------------------------------------------- model
    torch.manual_seed(cfg.seed)
    mcfg = recipe.model_config(
        cfg.topology, input_dim=xs[0].shape[1], output_dim=transform.dim, delay_frames=delay
    )
    model = SequenceModel(mcfg)
    model.normalizer, model.target_transform = normalizer, transform
    model.meta = {
        "recipe": recipe.name,
        "topology": cfg.topology or recipe.default_topology,
        "fps": fps0,
        "delay_ms": recipe.delay_ms,
        "recipe_state": recipe.state(),
        "sr": _corpus_sr(corpus_dir),
    }
    if cfg.protocol is not None:
        model.meta["protocol"] = dict(cfg.protocol)
    opt = recipe.optimizer(model.parameters())
    start_epoch, best, best_epoch, bad = 0, math.inf, -1, 0
    if state is not None:
        try:
            ref = SequenceModel.from_pretrained(last)
            model.load_state_dict(ref.state_dict())
            opt.load_state_dict(torch.load(last / "optimizer.pt", weights_only=True))
        except (CheckpointError, RuntimeError, OSError) as e:
            raise CheckpointError(f"path='{last}' must hold a complete training state: {e}") from e
        start_epoch = int(state["epoch"]) + 1
        best, best_epoch, bad = float(state["best"]), int(state["best_epoch"]), int(state["bad"])
        if state.get("stopped"):
            start_epoch = max(start_epoch, epochs)
        _log(f"resuming from epoch {start_epoch} ({last})", log)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)

    # ---------------------------------------------------------------- loop
    fps_meas = []
    stopped = bool(state and state.get("stopped"))
    for epoch in range(start_epoch, epochs):
        if stopped:
            break
        t_ep = time.perf_counter()
        lr = recipe.lr * recipe.lr_factor(epoch)
        for g in opt.param_groups:
            g["lr"] = lr
        data.set_epoch(epoch)
        torch.manual_seed(cfg.seed * 100003 + epoch)
        n_per_rank = len(data) // world if world > 1 else len(data)
        mine = [rank + world * k for k in range(n_per_rank)] if world > 1 else range(len(data))
        mine = list(mine)
        if cfg.max_steps_per_epoch:
            mine = mine[: cfg.max_steps_per_epoch * batch_size]
        net.train()
        tot, frames, t_train = 0.0, 0, time.perf_counter()
        n_batches = 0
        for b in range(0, len(mine), batch_size):
            x, y, m, lengths = collate([data[k] for k in mine[b : b + batch_size]])
            opt.zero_grad(set_to_none=True)
            loss = recipe.loss(net(x, lengths), y, m)
            loss.backward()
            opt.step()
            tot += float(loss.detach())
            frames += int(lengths.sum())
            n_batches += 1
        train_s = time.perf_counter() - t_train
        fps_meas.append(frames * world / max(train_s, 1e-9))
        vloss = _evaluate(model, recipe, vxs, vys, vms)
        improved = vloss < best
        if improved:
            best, best_epoch, bad = vloss, epoch, 0
        else:
            bad += 1
        stopped = bad >= patience
        rec = {
            "epoch": epoch,
            "train_loss": tot / max(n_batches, 1),
            "valid_loss": vloss,
            "best_valid_loss": best,
            "lr": lr,
            "train_frames_per_s": fps_meas[-1],
            "seconds": time.perf_counter() - t_ep,
            "improved": improved,
        }
        if rank == 0:
            if improved:
                model.save_pretrained(model_dir)
                recipe.save_files(model_dir)
            st = {
                "identity": {"recipe": recipe.name, **cfg.identity()},
                "epoch": epoch,
                "best": best,
                "best_epoch": best_epoch,
                "bad": bad,
                "stopped": stopped,
                "recipe_state": recipe.state(),
            }
            _save_last(model_dir, model, opt, st, recipe)
            from ..corpora.manifest import append_jsonl

            append_jsonl(model_dir / "training_log.jsonl", [rec])
        if world > 1:
            torch.distributed.barrier()
        _log(
            f"epoch {epoch}: train {rec['train_loss']:.4f} valid {vloss:.4f}"
            f"{' *' if improved else ''} ({rec['train_frames_per_s']:.0f} frames/s)",
            log,
        )
        if stopped:
            _log(f"early stop: no improvement for {patience} epochs", log)
    done = int(json.loads(((_find_last(model_dir) or model_dir) / _STATE).read_text())["epoch"]) + 1
    return TrainResult(
        model_dir=model_dir,
        epochs_done=done,
        best_epoch=best_epoch,
        best_valid_loss=best,
        stopped_early=stopped,
        train_frames_per_s=float(np.mean(fps_meas)) if fps_meas else 0.0,
    )


def result_to_dict(r: TrainResult) -> dict:
    d = asdict(r)
    d["model_dir"] = str(r.model_dir)
    return d
