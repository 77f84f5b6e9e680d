"""Train a :class:`~talkinghead.models.refiner.Refiner` on (rendered, real) face-crop pairs.

Loss (generator): ``l1_weight * |G(x) - y|_1 + adv_weight * hinge_G(D(x, G(x)))``;
discriminator: hinge ``relu(1 - D(x, y)) + relu(1 + D(x, G(x)))``; the adversarial
terms start after ``adv_start`` of the steps (L1 warm-up). Adam (lr, betas 0.5, 0.999).

``train_refiner(..., out_dir)`` writes::

    OUT_DIR/config.json, model.safetensors   the final generator (Refiner.from_pretrained)
    OUT_DIR/training_log.jsonl               one line per ``log_every`` steps
    OUT_DIR/last/                            generator, discriminator.safetensors,
                                             optimizer.pt, trainer_state.json; a rerun
                                             continues from here

Determinism: weights are initialised from ``seed``; the batch of step ``s`` is drawn
from ``(seed, s)``, so a run stopped at a checkpoint and resumed draws the same batches.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .._util.atomic import atomic_path, write_text_atomic
from .._util.checkpoint import TRAINER_STATE, find_last_checkpoint, save_last_checkpoint
from ..errors import CheckpointError, InvalidArgumentError
from ..models.refiner import PatchDiscriminator, Refiner, RefinerConfig, images_to_tensor

__all__ = ["RefinerTrainResult", "refiner_losses", "train_refiner"]

_STATE = TRAINER_STATE


@dataclass
class RefinerTrainResult:
    """What :func:`train_refiner` did.

    Attributes
    ----------
    model : Refiner
        The trained generator (eval mode).
    steps : int
        Total steps done (including resumed ones).
    seconds : float
        Wall time of this call's training steps.
    history : list of dict
        Logged ``{"step", "l1", "g_adv", "d_loss"}`` of this call.
    resumed_from : int
        Step the run resumed from (0: fresh).
    """

    model: Refiner
    steps: int
    seconds: float
    history: list = field(default_factory=list)
    resumed_from: int = 0


def refiner_losses(
    G: Refiner,
    D: PatchDiscriminator,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    l1_weight: float = 1.0,
    adv_weight: float = 0.01,
    adversarial: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Generator and discriminator losses for one batch.

    Parameters
    ----------
    x, y : Tensor, shape (B, 3, S, S), in [-1, 1]
        Rendered input and real target.

    Returns
    -------
    g_loss, d_loss : Tensor (scalars)
        ``d_loss`` is computed on the detached generator output.
    parts : dict
        Floats ``l1``, ``g_adv``, ``d_loss``.
    """
    fake = G(x)
    l1 = F.l1_loss(fake, y)
    g_loss = l1_weight * l1
    g_adv = torch.zeros(())
    d_loss = torch.zeros(())
    if adversarial and adv_weight > 0:
        g_adv = -D(x, fake).mean()
        g_loss = g_loss + adv_weight * g_adv
        d_loss = F.relu(1 - D(x, y)).mean() + F.relu(1 + D(x, fake.detach())).mean()
    parts = {"l1": l1.item(), "g_adv": g_adv.item(), "d_loss": d_loss.item()}
    return g_loss, d_loss, parts


def _save_last(out: Path, G, D, opt_g, opt_d, state: dict) -> None:
    from safetensors.torch import save_file

    def write(new: Path) -> None:
        G.save_pretrained(new)
        with atomic_path(new / "discriminator.safetensors") as tmp:
            save_file({k: v.detach().contiguous() for k, v in D.state_dict().items()}, str(tmp))
        torch.save({"g": opt_g.state_dict(), "d": opt_d.state_dict()}, new / "optimizer.pt")
        write_text_atomic(new / _STATE, json.dumps(state, indent=1) + "\n")

    save_last_checkpoint(out, write)


_find_last = find_last_checkpoint


def train_refiner(
    inputs: np.ndarray,
    targets: np.ndarray,
    out_dir,
    *,
    config: RefinerConfig | None = None,
    steps: int = 500,
    batch_size: int = 4,
    lr: float = 2e-4,
    l1_weight: float = 1.0,
    adv_weight: float = 0.01,
    adv_start: float = 0.2,
    seed: int = 0,
    save_every: int = 100,
    log_every: int = 10,
    resume: bool = True,
    init=None,
    progress: bool | None = None,
) -> RefinerTrainResult:
    """Train the refiner on paired crops.

    Parameters
    ----------
    inputs, targets : ndarray, shape (N, S, S, 3), uint8 RGB
        Rendered crops and the matching real crops.
    out_dir : str or path
        Output folder (see the module docstring).
    config : RefinerConfig, optional
        Default: ``RefinerConfig(size=S)``.
    steps : int
        Total optimisation steps (a resumed run stops at the same total).
    batch_size, lr, l1_weight, adv_weight, seed
        See the module docstring.
    adv_start : float
        Fraction of ``steps`` trained with L1 only.
    save_every, log_every : int
        Checkpoint / log intervals in steps.
    resume : bool
        Continue from ``out_dir/last`` when it exists.
    init : str, path or Refiner, optional
        Start the generator from these weights (fine-tuning, e.g. the general refiner of
        :mod:`talkinghead.recipes.yi2020`); its config must equal ``config``. Ignored when
        the run resumes from ``out_dir/last``.
    progress : bool, optional
        Progress bar (None: unless ``TALKINGHEAD_PROGRESS=0``).

    Returns
    -------
    RefinerTrainResult
    """
    from safetensors.torch import load_file

    from .._util.progress import progress as _progress

    x_all, y_all = np.asarray(inputs), np.asarray(targets)
    if x_all.ndim != 4 or x_all.shape[-1] != 3 or x_all.dtype != np.uint8:
        raise InvalidArgumentError(
            f"inputs.shape={x_all.shape} dtype={x_all.dtype} must be (N, S, S, 3) uint8"
        )
    if y_all.shape != x_all.shape or y_all.dtype != np.uint8:
        raise InvalidArgumentError(
            f"targets.shape={y_all.shape} must equal inputs.shape={x_all.shape} (uint8)"
        )
    if len(x_all) == 0:
        raise InvalidArgumentError("inputs must hold at least one pair (N >= 1)")
    steps, batch_size = int(steps), int(batch_size)
    if steps <= 0 or batch_size <= 0:
        raise InvalidArgumentError(
            f"steps={steps} and batch_size={batch_size} must be positive integers"
        )
    S = x_all.shape[1]
    config = config or RefinerConfig(size=S)
    if config.size != S or x_all.shape[2] != S:
        raise InvalidArgumentError(
            f"crops of shape {x_all.shape[1:3]} must be square and match config.size={config.size}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(seed)
    G, D = Refiner(config), PatchDiscriminator(config.base_channels)
    if init is not None:
        src = init if isinstance(init, Refiner) else Refiner.from_pretrained(init)
        if src.config != config:
            raise InvalidArgumentError(
                f"init={str(init)!r} has config {src.config}; it must equal config={config}"
            )
        G.load_state_dict(src.state_dict())
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    start = 0
    last = _find_last(out) if resume else None
    if last is not None:
        try:
            state = json.loads((last / _STATE).read_text(encoding="utf-8"))
            G = Refiner.from_pretrained(last).train()
            if G.config != config:
                raise CheckpointError(
                    f"path='{last}' holds config {G.config}; this run asks for {config} "
                    "(delete the folder or pass resume=False)"
                )
            D.load_state_dict(load_file(str(last / "discriminator.safetensors")))
            opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
            o = torch.load(last / "optimizer.pt", weights_only=True)
            opt_g.load_state_dict(o["g"])
            opt_d.load_state_dict(o["d"])
            start = int(state["step"])
        except (OSError, KeyError, RuntimeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"path='{last}' is an unreadable checkpoint: {e}") from None
    G.train()
    D.train()
    history: list[dict] = []
    log_path = out / "training_log.jsonl"
    t0 = time.perf_counter()
    bar = _progress(range(start, steps), total=steps - start, desc="refiner", unit="step",
                    enabled=progress)  # fmt: skip
    for step in bar:
        rng = np.random.default_rng([seed, step])
        idx = rng.choice(len(x_all), size=min(batch_size, len(x_all)), replace=False)
        x, y = images_to_tensor(x_all[idx]), images_to_tensor(y_all[idx])
        adversarial = step >= adv_start * steps
        g_loss, d_loss, parts = refiner_losses(
            G, D, x, y, l1_weight=l1_weight, adv_weight=adv_weight, adversarial=adversarial
        )
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        if adversarial and adv_weight > 0:
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            rec = {"step": step + 1, **{k: round(v, 5) for k, v in parts.items()},
                   "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
            history.append(rec)
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(rec) + "\n")
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(l1=f"{parts['l1']:.4f}")
        if (step + 1) % save_every == 0 or step + 1 == steps:
            _save_last(out, G, D, opt_g, opt_d, {"step": step + 1, "seed": seed,
                                                 "steps": steps})  # fmt: skip
    seconds = time.perf_counter() - t0
    G.eval()
    G.save_pretrained(out)
    return RefinerTrainResult(
        model=G, steps=max(start, steps), seconds=seconds, history=history, resumed_from=start
    )
