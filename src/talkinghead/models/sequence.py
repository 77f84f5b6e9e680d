"""One family of frame-synchronous sequence regressors: the papers' LSTM / BLSTM networks.

A :class:`SequenceModel` maps a feature sequence ``x`` of shape ``(B, T, input_dim)`` to
an output sequence ``(B, T, output_dim)``. Its topology is a list of layer specs:

``"F312"``
    Feed-forward layer with 312 units and ReLU.
``"L600"``
    Unidirectional (forward) LSTM with 600 units.
``"B418"``
    Bidirectional LSTM with 418 output units (209 per direction; the size must be even,
    as in Sakurai et al., whose unit counts are those of the concatenated output).

followed by one linear layer per output head (``"linear"`` or ``"relu"`` activation),
whose outputs are concatenated in head order. Dropout (one rate per layer) is applied
to each layer's output while training.

``cell_activation`` / ``gate_activation`` choose the LSTM nonlinearities. The default
(``"tanh"`` / ``"sigmoid"``) is ``nn.LSTM``. Eskimez et al.'s Keras code builds its LSTMs
with ``activation='sigmoid'`` (cell input and output squashed by a sigmoid instead of
tanh) and Keras 2's default ``recurrent_activation='hard_sigmoid'`` gates; any other
choice runs the unidirectional layers as :class:`ActivationLSTM` (same parameter names
and shapes as ``nn.LSTM``, a step loop in Python), optionally with Keras's
``recurrent_dropout`` (one mask per sequence on the recurrent state).

``delay_frames`` is a look-ahead (Eskimez et al.): a model trained with targets shifted
by ``d`` frames emits frame ``t`` at step ``t + d``. :meth:`SequenceModel.predict`
undoes the shift (it appends ``d`` frames of zeros, the normalised feature mean, and
drops the first ``d`` outputs); :meth:`SequenceModel.forward_chunk` does not (a
streaming caller reads output ``i`` as frame ``i - d``).

A checkpoint folder (:meth:`SequenceModel.save_pretrained`) holds::

    config.json        format, version, the SequenceModelConfig, free "meta" (recipe...)
    model.safetensors  the weights
    normalizer.json    talkinghead.audio.normalize.FeatureNormalizer (optional)
    target.safetensors TargetTransform arrays: mean, scale, PCA basis (optional)

torch is imported by this module: import it only where a model is needed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._util.atomic import atomic_path
from .._util.checkpoint import PretrainedMixin
from ..audio.normalize import FeatureNormalizer
from ..errors import CheckpointError, InvalidArgumentError

__all__ = [
    "HeadSpec",
    "SequenceModelConfig",
    "SequenceModel",
    "TargetTransform",
    "parse_layer",
    "count_parameters",
    "ActivationLSTM",
    "CELL_ACTIVATIONS",
    "GATE_ACTIVATIONS",
]

_FORMAT = "talkinghead.SequenceModel"
_VERSION = 1
_LAYER_RE = re.compile(r"^([FLB])(\d+)$")
_ACTIVATIONS = ("linear", "relu")
#: LSTM cell activations (the candidate and the output squashing): nn.LSTM's tanh or
#: the sigmoid of Eskimez et al.'s Keras code.
CELL_ACTIVATIONS = ("tanh", "sigmoid")
#: LSTM gate activations: the logistic sigmoid (nn.LSTM) or Keras 2's hard sigmoid
#: ``clip(0.2 x + 0.5, 0, 1)``.
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid")


def parse_layer(spec: str) -> tuple[str, int]:
    """Split a layer spec like ``"B418"`` into ``("B", 418)``.

    Raises
    ------
    InvalidArgumentError
        Unknown kind, size < 1, or an odd BLSTM size.
    """
    m = _LAYER_RE.match(str(spec))
    if not m or int(m.group(2)) < 1:
        raise InvalidArgumentError(
            f"layer={spec!r} must be F<n>, L<n> or B<n> with n >= 1 (e.g. 'F312', 'B418')"
        )
    kind, n = m.group(1), int(m.group(2))
    if kind == "B" and n % 2:
        raise InvalidArgumentError(
            f"layer={spec!r} must have an even size (a BLSTM's n units are n/2 per direction)"
        )
    return kind, n


@dataclass(frozen=True)
class HeadSpec:
    """One output head: ``name``, ``dim`` outputs, ``activation`` ("linear" or "relu")."""

    name: str
    dim: int
    activation: str = "linear"

    def __post_init__(self) -> None:
        if not isinstance(self.dim, int) or self.dim < 1:
            raise InvalidArgumentError(f"head {self.name!r}: dim={self.dim!r} must be an int >= 1")
        if self.activation not in _ACTIVATIONS:
            raise InvalidArgumentError(
                f"head {self.name!r}: activation={self.activation!r} must be one of {_ACTIVATIONS}"
            )


@dataclass
class SequenceModelConfig:
    """Topology of a :class:`SequenceModel`.

    Attributes
    ----------
    input_dim : int
        Features per frame ``D``.
    output_dim : int
        Outputs per frame ``K`` (the sum of the head dims).
    layers : list of str
        Layer specs, bottom first (``["B262", "B262"]``).
    dropout : float or list of float
        Dropout rate after each layer (a single float applies to all layers).
    heads : list of HeadSpec (or (name, dim, activation) tuples)
        Output heads; default: one linear head ``("output", output_dim, "linear")``.
    delay_frames : int
        Look-ahead of the model in frames (>= 0; see the module docstring).
    cell_activation : {"tanh", "sigmoid"}
        Activation of the LSTM cell candidate and of the cell output (tanh: nn.LSTM).
    gate_activation : {"sigmoid", "hard_sigmoid"}
        Activation of the input, forget and output gates.
    recurrent_dropout : float
        Dropout rate on the recurrent state of the L layers while training (one mask
        per sequence, as Keras); needs the :class:`ActivationLSTM` layers.
    """

    input_dim: int
    output_dim: int
    layers: list = field(default_factory=list)
    dropout: float | list = 0.0
    heads: list = field(default_factory=list)
    delay_frames: int = 0
    cell_activation: str = "tanh"
    gate_activation: str = "sigmoid"
    recurrent_dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("input_dim", "output_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InvalidArgumentError(f"{name}={v!r} must be an int >= 1")
            setattr(self, name, int(v))
        self.layers = [str(s) for s in self.layers]
        for s in self.layers:
            parse_layer(s)
        if isinstance(self.dropout, (int, float)):
            self.dropout = [float(self.dropout)] * len(self.layers)
        self.dropout = [float(p) for p in self.dropout]
        if len(self.dropout) != len(self.layers):
            raise InvalidArgumentError(
                f"dropout with {len(self.dropout)} rates must have one per layer "
                f"({len(self.layers)} layers)"
            )
        if any(not 0.0 <= p < 1.0 for p in self.dropout):
            raise InvalidArgumentError(f"dropout={self.dropout!r} must hold rates in [0, 1)")
        heads = self.heads or [("output", self.output_dim, "linear")]
        self.heads = [
            h if isinstance(h, HeadSpec) else HeadSpec(**h) if isinstance(h, dict) else HeadSpec(*h)
            for h in heads
        ]
        if len({h.name for h in self.heads}) != len(self.heads):
            raise InvalidArgumentError(f"heads={self.heads!r} must have unique names")
        total = sum(h.dim for h in self.heads)
        if total != self.output_dim:
            raise InvalidArgumentError(
                f"output_dim={self.output_dim} must equal the sum of the head dims ({total})"
            )
        d = self.delay_frames
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise InvalidArgumentError(f"delay_frames={d!r} must be an int >= 0")
        self.delay_frames = int(d)
        if self.cell_activation not in CELL_ACTIVATIONS:
            raise InvalidArgumentError(
                f"cell_activation={self.cell_activation!r} must be one of {CELL_ACTIVATIONS}"
            )
        if self.gate_activation not in GATE_ACTIVATIONS:
            raise InvalidArgumentError(
                f"gate_activation={self.gate_activation!r} must be one of {GATE_ACTIVATIONS}"
            )
        rd = self.recurrent_dropout
        if isinstance(rd, bool) or not isinstance(rd, (int, float)) or not 0.0 <= rd < 1.0:
            raise InvalidArgumentError(f"recurrent_dropout={rd!r} must be in [0, 1)")
        self.recurrent_dropout = float(rd)
        if self.custom_lstm and not self.is_causal:
            raise InvalidArgumentError(
                f"cell_activation={self.cell_activation!r}, gate_activation="
                f"{self.gate_activation!r}, recurrent_dropout={self.recurrent_dropout} must "
                f"be the nn.LSTM defaults for BLSTM ('B') layers (layers={self.layers})"
            )

    @property
    def custom_lstm(self) -> bool:
        """True when the L layers are :class:`ActivationLSTM` (non-default activations)."""
        return (
            self.cell_activation != "tanh"
            or self.gate_activation != "sigmoid"
            or self.recurrent_dropout > 0
        )

    @property
    def is_causal(self) -> bool:
        """True when no layer is bidirectional (streaming with :meth:`forward_chunk` works)."""
        return all(parse_layer(s)[0] != "B" for s in self.layers)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["heads"] = [asdict(h) for h in self.heads]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SequenceModelConfig:
        keys = ("input_dim", "output_dim", "layers", "dropout", "heads", "delay_frames",
                "cell_activation", "gate_activation", "recurrent_dropout")  # fmt: skip
        return cls(**{k: d[k] for k in keys if k in d})


@dataclass
class TargetTransform:
    """Maps model outputs (normalised codes) back to targets, and targets to codes.

    ``decode(z) = (z * scale + mean) @ basis + basis_mean`` when a PCA ``basis`` is
    set, else ``z * scale + mean``. ``encode`` is its (least-squares) inverse.

    Attributes
    ----------
    mean, scale : np.ndarray, float64, shape (K,)
        Per-output standardisation of the codes.
    basis : np.ndarray, float64, shape (K, P), optional
        Orthonormal PCA components (rows), mapping K codes to P target values.
    basis_mean : np.ndarray, float64, shape (P,), optional
        Mean target vector of the PCA.
    """

    mean: np.ndarray
    scale: np.ndarray
    basis: np.ndarray | None = None
    basis_mean: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        self.scale = np.asarray(self.scale, dtype=np.float64).reshape(-1)
        if self.scale.shape != self.mean.shape or np.any(self.scale <= 0):
            raise InvalidArgumentError("scale must have the shape of mean and be > 0")
        if self.basis is not None:
            self.basis = np.asarray(self.basis, dtype=np.float64)
            self.basis_mean = np.asarray(self.basis_mean, dtype=np.float64).reshape(-1)
            if self.basis.shape != (self.mean.size, self.basis_mean.size):
                raise InvalidArgumentError(
                    f"basis with shape {self.basis.shape} must be (K, P) = "
                    f"({self.mean.size}, {self.basis_mean.size})"
                )

    @property
    def dim(self) -> int:
        """Number of codes ``K`` (the model's output_dim)."""
        return int(self.mean.size)

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Targets ``(..., P)`` (or codes ``(..., K)`` without a basis) -> ``(..., K)`` float32."""
        y = np.asarray(y, dtype=np.float64)
        if self.basis is not None:
            y = (y - self.basis_mean) @ self.basis.T
        return ((y - self.mean) / self.scale).astype(np.float32)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Model outputs ``(..., K)`` -> targets ``(..., P)`` (or ``(..., K)``), float32."""
        y = np.asarray(z, dtype=np.float64) * self.scale + self.mean
        if self.basis is not None:
            y = y @ self.basis + self.basis_mean
        return y.astype(np.float32)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        out = {"mean": self.mean, "scale": self.scale}
        if self.basis is not None:
            out.update(basis=self.basis, basis_mean=self.basis_mean)
        return {k: torch.from_numpy(np.array(v, order="C", copy=True)) for k, v in out.items()}

    @classmethod
    def from_tensors(cls, t: dict) -> TargetTransform:
        g = {k: v.numpy() for k, v in t.items()}
        return cls(g["mean"], g["scale"], g.get("basis"), g.get("basis_mean"))


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


class ActivationLSTM(nn.Module):
    """A unidirectional LSTM layer with a choice of cell and gate activations.

    With ``act`` the cell activation and ``gate`` the gate activation, per step
    (gates in nn.LSTM's order i, f, g, o)::

        i, f, o = gate(W_i x + U_i h + b_i), gate(...), gate(...)
        c' = f * c + i * act(W_g x + U_g h + b_g)
        h' = o * act(c')

    ``act = tanh, gate = sigmoid`` is ``nn.LSTM`` (the same parameters give the same
    outputs); Keras's ``LSTM(activation='sigmoid')`` (Keras 2, default
    ``recurrent_activation='hard_sigmoid'``) is ``act = sigmoid, gate = hard_sigmoid``.
    Initialised as Keras does: Glorot-uniform input weights, orthogonal recurrent
    weights, zero biases except the forget gate's (1). ``recurrent_dropout`` drops units
    of ``h`` before the recurrent product while training, with one mask per sequence.

    Parameters
    ----------
    input_size, hidden_size : int
    cell_activation : {"tanh", "sigmoid"}
    gate_activation : {"sigmoid", "hard_sigmoid"}
    recurrent_dropout : float

    Attributes
    ----------
    weight_ih_l0 : (4 H, D), weight_hh_l0 : (4 H, H), bias_ih_l0, bias_hh_l0 : (4 H,)
        Named as ``nn.LSTM``'s.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        cell_activation: str = "tanh",
        gate_activation: str = "sigmoid",
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.cell_activation, self.gate_activation = cell_activation, gate_activation
        self.recurrent_dropout = float(recurrent_dropout)
        h = self.hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * h, self.input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * h, h))
        self.bias_ih_l0 = nn.Parameter(torch.zeros(4 * h))
        self.bias_hh_l0 = nn.Parameter(torch.zeros(4 * h))
        nn.init.xavier_uniform_(self.weight_ih_l0)
        with torch.no_grad():
            for k in range(4):
                nn.init.orthogonal_(self.weight_hh_l0[k * h : (k + 1) * h])
            self.bias_ih_l0[h : 2 * h] = 1.0  # Keras unit_forget_bias
        self._act = torch.sigmoid if cell_activation == "sigmoid" else torch.tanh
        self._gate = _hard_sigmoid if gate_activation == "hard_sigmoid" else torch.sigmoid

    def forward(self, x: torch.Tensor, state: tuple | None = None) -> tuple:
        """Run ``x (B, T, D)`` from ``state`` ``(h, c)``, each (1, B, H) (None: zeros).

        Returns ``(y (B, T, H), (h, c))`` as ``nn.LSTM(batch_first=True)``.
        """
        B, T, _ = x.shape
        H = self.hidden_size
        if state is None:
            h = x.new_zeros(B, H)
            c = x.new_zeros(B, H)
        else:
            h, c = state[0][0], state[1][0]
        xw = x @ self.weight_ih_l0.T + (self.bias_ih_l0 + self.bias_hh_l0)  # (B, T, 4H)
        mask = None
        if self.training and self.recurrent_dropout > 0:
            keep = 1.0 - self.recurrent_dropout
            mask = torch.bernoulli(x.new_full((B, H), keep)) / keep
        act, gate = self._act, self._gate
        outs = []
        for t in range(T):
            hr = h * mask if mask is not None else h
            z = xw[:, t] + hr @ self.weight_hh_l0.T
            i, f, g, o = z.chunk(4, dim=-1)
            c = gate(f) * c + gate(i) * act(g)
            h = gate(o) * act(c)
            outs.append(h)
        y = torch.stack(outs, dim=1) if outs else x.new_zeros(B, 0, H)
        return y, (h[None], c[None])


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class SequenceModel(nn.Module, PretrainedMixin):
    """Stacked F / L / B layers with linear or ReLU output heads.

    Parameters
    ----------
    config : SequenceModelConfig

    Attributes
    ----------
    normalizer : FeatureNormalizer or None
        Input statistics, saved with the checkpoint and applied by :meth:`predict`.
    target_transform : TargetTransform or None
        Output decoding, saved with the checkpoint and applied by :meth:`predict`.
    meta : dict
        Free JSON-able information (recipe, feature set, fps, ...), saved in config.json.

    Checkpoints: :meth:`save_pretrained` / :meth:`from_pretrained` (eval mode; see the
    module docstring; :class:`~talkinghead._util.checkpoint.PretrainedMixin`).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    weights_backend = "torch"

    def __init__(self, config: SequenceModelConfig) -> None:
        super().__init__()
        self.config = config
        self.normalizer: FeatureNormalizer | None = None
        self.target_transform: TargetTransform | None = None
        self.meta: dict = {}
        self.kinds: list[str] = []
        layers = []
        d = config.input_dim
        for spec in config.layers:
            kind, n = parse_layer(spec)
            if kind == "F":
                layers.append(nn.Linear(d, n))
            elif kind == "L" and config.custom_lstm:
                layers.append(
                    ActivationLSTM(
                        d,
                        n,
                        cell_activation=config.cell_activation,
                        gate_activation=config.gate_activation,
                        recurrent_dropout=config.recurrent_dropout,
                    )
                )
            else:
                bi = kind == "B"
                layers.append(nn.LSTM(d, n // 2 if bi else n, batch_first=True, bidirectional=bi))
            self.kinds.append(kind)
            d = n
        self.layers = nn.ModuleList(layers)
        self.drops = nn.ModuleList(nn.Dropout(p) for p in config.dropout)
        self.heads = nn.ModuleList(nn.Linear(d, h.dim) for h in config.heads)

    # ------------------------------------------------------------------ forward
    def _heads(self, h: torch.Tensor) -> torch.Tensor:
        outs = []
        for spec, lin in zip(self.config.heads, self.heads, strict=True):
            o = lin(h)  # (B, T, dim)
            outs.append(torch.relu(o) if spec.activation == "relu" else o)
        return torch.cat(outs, dim=-1)  # (B, T, K)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Run the whole sequence.

        Parameters
        ----------
        x : torch.Tensor, float32, shape (B, T, input_dim)
        lengths : torch.Tensor, int64, shape (B,), optional
            Valid frames per sequence (the rest is padding). Given, recurrent layers
            run on packed sequences, so a BLSTM's backward pass starts at each
            sequence's true end; outputs at padded frames are computed from zeros.

        Returns
        -------
        torch.Tensor, float32, shape (B, T, output_dim)
        """
        if x.dim() != 3 or x.shape[-1] != self.config.input_dim:
            raise InvalidArgumentError(
                f"x with shape {tuple(x.shape)} must be (B, T, {self.config.input_dim})"
            )
        h = x
        T = x.shape[1]
        for kind, layer, drop in zip(self.kinds, self.layers, self.drops, strict=True):
            if kind == "F":
                h = torch.relu(layer(h))  # (B, T, n)
            elif isinstance(layer, ActivationLSTM):
                # unidirectional: frames past a sequence's length never reach earlier ones
                h, _ = layer(h)
            elif lengths is not None:
                packed = nn.utils.rnn.pack_padded_sequence(
                    h, lengths.cpu(), batch_first=True, enforce_sorted=False
                )
                h, _ = layer(packed)
                h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=T)
            else:
                h, _ = layer(h)  # (B, T, n)
            h = drop(h)
        return self._heads(h)

    # ------------------------------------------------------------------ streaming
    def init_state(self, batch: int = 1) -> list:
        """Zero recurrent state for :meth:`forward_chunk`.

        Returns
        -------
        list, one entry per layer: None for F layers, ``(h, c)`` for L layers, each
        of shape (1, batch, units).

        Raises
        ------
        InvalidArgumentError
            The model has a BLSTM layer (it needs the whole future; no streaming).
        """
        if not self.config.is_causal:
            raise InvalidArgumentError(
                f"layers={self.config.layers} must not contain a BLSTM ('B') layer for "
                "streaming; bidirectional models need the whole sequence"
            )
        p = next(self.parameters())
        state = []
        for kind, layer in zip(self.kinds, self.layers, strict=True):
            if kind == "F":
                state.append(None)
            else:
                z = torch.zeros(1, batch, layer.hidden_size, dtype=p.dtype, device=p.device)
                state.append((z, z.clone()))
        return state

    def forward_chunk(self, x: torch.Tensor, state: list | None = None) -> tuple:
        """Run a chunk of frames, carrying the LSTM state across calls.

        Feeding a sequence in chunks gives the same outputs as :meth:`forward` on the
        whole sequence (without ``lengths``). Call ``eval()`` first for inference.

        Parameters
        ----------
        x : torch.Tensor, float32, shape (B, t, input_dim)
            The next ``t >= 1`` frames.
        state : list or None
            From :meth:`init_state` or the previous call (None: a fresh state).

        Returns
        -------
        y : torch.Tensor, shape (B, t, output_dim)
            Raw outputs: with ``delay_frames = d``, ``y`` at step ``i`` is frame ``i - d``.
        state : list
            The state after the chunk.
        """
        if state is None:
            state = self.init_state(x.shape[0])
        elif not self.config.is_causal:
            self.init_state(1)  # raises
        h = x
        new_state = []
        for kind, layer, drop, s in zip(self.kinds, self.layers, self.drops, state, strict=True):
            if kind == "F":
                h = torch.relu(layer(h))
                new_state.append(None)
            else:
                h, s2 = layer(h, s)
                new_state.append(s2)
            h = drop(h)
        return self._heads(h), new_state

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def predict(self, x: np.ndarray, *, normalize: bool = True, decode: bool = True) -> np.ndarray:
        """Frame-aligned outputs for one feature sequence (eval mode, no gradients).

        Parameters
        ----------
        x : np.ndarray, shape (T, input_dim)
            Raw features (normalised here with :attr:`normalizer` when ``normalize``).
        normalize, decode : bool
            Apply :attr:`normalizer` to ``x`` / :attr:`target_transform` to the outputs
            (each only when set).

        Returns
        -------
        np.ndarray, float32, shape (T, K) — or (T, P) when decoded through a PCA basis.
            Row ``t`` is frame ``t`` (the look-ahead ``delay_frames`` is compensated).
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.config.input_dim:
            raise InvalidArgumentError(
                f"x with shape {x.shape} must be (T, input_dim={self.config.input_dim})"
            )
        if normalize and self.normalizer is not None:
            x = self.normalizer.transform(x).astype(np.float32)
        d = self.config.delay_frames
        T = x.shape[0]
        if d:
            x = np.concatenate([x, np.zeros((d, x.shape[1]), np.float32)])
        was_training = self.training
        self.eval()
        try:
            y = self(torch.from_numpy(x)[None])[0, d : d + T].numpy()  # (T, K)
        finally:
            self.train(was_training)
        if decode and self.target_transform is not None:
            y = self.target_transform.decode(y)
        return y

    def split_heads(self, y):
        """Split outputs ``(..., K)`` (tensor or array) into ``{head name: (..., dim)}``."""
        out, i = {}, 0
        for h in self.config.heads:
            out[h.name] = y[..., i : i + h.dim]
            i += h.dim
        return out

    # ------------------------------------------------------------------ persistence
    def _checkpoint_tensors(self, half: bool) -> dict:
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}

    def _save_extras(self, directory: Path) -> None:
        from safetensors.torch import save_file

        if self.normalizer is not None:
            self.normalizer.save(directory / "normalizer.json")
        if self.target_transform is not None:
            with atomic_path(directory / "target.safetensors") as tmp:
                save_file(self.target_transform.to_tensors(), str(tmp))

    def _checkpoint_config(self) -> dict:
        return {"config": self.config.to_dict(), "meta": self.meta}

    @classmethod
    def _from_checkpoint(cls, directory: Path, cfg: dict, state: dict) -> SequenceModel:
        from safetensors.torch import load_file

        cfg_path = directory / "config.json"
        try:
            config = SequenceModelConfig.from_dict(cfg["config"])
        except (KeyError, TypeError, InvalidArgumentError) as e:
            raise CheckpointError(f"path='{cfg_path}' holds an invalid model config: {e}") from e
        model = cls(config)
        model.meta = dict(cfg.get("meta") or {})
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            w_path = directory / "model.safetensors"
            raise CheckpointError(f"path='{w_path}' does not match config.json: {e}") from e
        if (directory / "normalizer.json").is_file():
            model.normalizer = FeatureNormalizer.load(directory / "normalizer.json")
            if model.normalizer.dim != config.input_dim:
                raise CheckpointError(
                    f"path='{directory / 'normalizer.json'}' has dim={model.normalizer.dim}; "
                    f"must be input_dim={config.input_dim}"
                )
        t_path = directory / "target.safetensors"
        if t_path.is_file():
            try:
                model.target_transform = TargetTransform.from_tensors(load_file(str(t_path)))
            except (KeyError, InvalidArgumentError) as e:
                raise CheckpointError(
                    f"path='{t_path}' holds an invalid target transform: {e}"
                ) from e
            if model.target_transform.dim != config.output_dim:
                raise CheckpointError(
                    f"path='{t_path}' has {model.target_transform.dim} codes; must be "
                    f"output_dim={config.output_dim}"
                )
        model.eval()
        return model
