"""Face refiner: rendered (warped) face crops -> the person's real-looking face crops.

After Yi et al. 2020 ("memory-augmented GAN"): a small U-Net generator whose bottleneck
queries a learned key-value memory that stores identity-specific appearance, trained
per person with L1 + an adversarial loss against a PatchGAN discriminator
(:mod:`talkinghead.training.refiner_train`).

Generator (``c = base_channels``; input side ``S`` divisible by 8)::

    x (B, 3, S, S) in [-1, 1]
    enc0 conv3x3            -> (B, c,  S,   S)
    enc1 conv4x4 stride 2   -> (B, 2c, S/2, S/2)
    enc2 conv4x4 stride 2   -> (B, 4c, S/4, S/4)
    enc3 conv4x4 stride 2   -> (B, 4c, S/8, S/8)
    n_res residual blocks + MemoryBlock (bottleneck, per location)
    dec3 up x2 + skip enc2  -> (B, 4c, S/4, S/4)
    dec2 up x2 + skip enc1  -> (B, 2c, S/2, S/2)
    dec1 up x2 + skip enc0  -> (B, c,  S,   S)
    out conv3x3 + tanh      -> residual added to x, clamped to [-1, 1]

A checkpoint folder (:meth:`Refiner.save_pretrained`) holds ``config.json`` and
``model.safetensors``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._util.checkpoint import TorchModuleCheckpoint
from ..errors import InvalidArgumentError

__all__ = [
    "RefinerConfig",
    "MemoryBlock",
    "Refiner",
    "PatchDiscriminator",
    "images_to_tensor",
    "tensor_to_images",
]

_FORMAT = "talkinghead.refiner"
_VERSION = 1


@dataclass
class RefinerConfig:
    """Refiner hyper-parameters.

    Attributes
    ----------
    size : int
        Side of the square face crops it is trained on (a multiple of 8).
    base_channels : int
        ``c`` in the module docstring.
    memory_slots : int
        ``K``, the number of key-value memory slots.
    key_dim : int
        Dimension of the memory keys and queries.
    n_res : int
        Residual blocks in the bottleneck.
    """

    size: int = 128
    base_channels: int = 32
    memory_slots: int = 64
    key_dim: int = 64
    n_res: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise InvalidArgumentError(f"RefinerConfig.{f.name}={v!r} must be a positive int")
        if self.size % 8:
            raise InvalidArgumentError(f"RefinerConfig.size={self.size} must be a multiple of 8")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RefinerConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise InvalidArgumentError(f"RefinerConfig has no fields {sorted(unknown)}")
        return cls(**d)


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, ch), ch)


class _ConvBlock(nn.Sequential):
    def __init__(self, cin: int, cout: int, *, k: int = 3, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2 if stride == 1 else 1),
            _norm(cout),
            nn.LeakyReLU(0.2, inplace=True),
        )


class _ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1), _norm(ch), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ch, ch, 3, padding=1), _norm(ch),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.body(x), 0.2)


class MemoryBlock(nn.Module):
    """Learned key-value memory read by every bottleneck location.

    Each location's feature is projected to a query, compared with ``K`` learned keys
    (scaled dot product, softmax over slots), and the attention-weighted sum of the
    ``K`` learned values (identity-specific appearance codes) is fused back into the
    feature with a residual 1x1 convolution.

    Parameters
    ----------
    channels : int
        ``C``, feature channels.
    slots : int
        ``K``, memory slots.
    key_dim : int
        ``D``, key / query dimension.
    """

    def __init__(self, channels: int, slots: int, key_dim: int) -> None:
        super().__init__()
        self.query = nn.Conv2d(channels, key_dim, 1)  # C -> D per location
        self.keys = nn.Parameter(torch.randn(slots, key_dim) / key_dim**0.5)  # (K, D)
        self.values = nn.Parameter(torch.randn(slots, channels) * 0.1)  # (K, C)
        self.fuse = nn.Conv2d(2 * channels, channels, 1)  # [feature, read] -> C
        self.scale = key_dim**-0.5

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Slot weights ``(B, H*W, K)`` (rows sum to 1) for features ``x`` (B, C, H, W)."""
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, H*W, D)
        return torch.softmax(q @ self.keys.t() * self.scale, dim=-1)  # (B, H*W, K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        w = self.attention(x)  # (B, H*W, K)
        read = (w @ self.values).transpose(1, 2).reshape(B, C, H, W)  # (B, C, H, W)
        return x + self.fuse(torch.cat([x, read], dim=1))  # (B, C, H, W)


class _Up(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.up = _ConvBlock(cin, cout)
        self.merge = _ConvBlock(cout + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.merge(torch.cat([self.up(x), skip], dim=1))


class Refiner(nn.Module, TorchModuleCheckpoint):
    """U-Net generator with a memory bottleneck (see the module docstring).

    ``forward(x)``: ``x`` (B, 3, S, S) in [-1, 1] -> (B, 3, S, S) in [-1, 1].
    Checkpoints: :meth:`save_pretrained` (``half=True``: float16 weights, loaded back as
    float32; training checkpoints keep float32) / :meth:`from_pretrained` (eval mode;
    :class:`~talkinghead._util.checkpoint.TorchModuleCheckpoint`).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "refiner checkpoint"
    weights_what = "refiner weights"
    half_default = False
    config_class = RefinerConfig

    def __init__(self, config: RefinerConfig | None = None) -> None:
        super().__init__()
        self.config = config or RefinerConfig()
        c = self.config.base_channels
        self.enc0 = _ConvBlock(3, c)
        self.enc1 = _ConvBlock(c, 2 * c, k=4, stride=2)
        self.enc2 = _ConvBlock(2 * c, 4 * c, k=4, stride=2)
        self.enc3 = _ConvBlock(4 * c, 4 * c, k=4, stride=2)
        self.res = nn.Sequential(*[_ResBlock(4 * c) for _ in range(self.config.n_res)])
        self.memory = MemoryBlock(4 * c, self.config.memory_slots, self.config.key_dim)
        self.dec3 = _Up(4 * c, 4 * c, 4 * c)
        self.dec2 = _Up(4 * c, 2 * c, 2 * c)
        self.dec1 = _Up(2 * c, c, c)
        self.out = nn.Conv2d(c, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # starts as the identity map
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[-1] % 8 or x.shape[-2] % 8:
            raise InvalidArgumentError(
                f"x.shape={tuple(x.shape)} must be (B, 3, H, W) with H, W multiples of 8"
            )
        e0 = self.enc0(x)  # (B, c, S, S)
        e1 = self.enc1(e0)  # (B, 2c, S/2, S/2)
        e2 = self.enc2(e1)  # (B, 4c, S/4, S/4)
        h = self.memory(self.res(self.enc3(e2)))  # (B, 4c, S/8, S/8)
        h = self.dec3(h, e2)  # (B, 4c, S/4, S/4)
        h = self.dec2(h, e1)  # (B, 2c, S/2, S/2)
        h = self.dec1(h, e0)  # (B, c, S, S)
        return torch.clamp(x + torch.tanh(self.out(h)), -1.0, 1.0)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def refine(self, images: np.ndarray, *, batch_size: int = 8) -> np.ndarray:
        """Refine uint8 RGB crops (N, S, S, 3) -> uint8 (N, S, S, 3) (eval mode)."""
        was = self.training
        self.eval()
        try:
            imgs = np.asarray(images)
            single = imgs.ndim == 3
            imgs = imgs[None] if single else imgs
            out = [
                tensor_to_images(self(images_to_tensor(imgs[i : i + batch_size])))
                for i in range(0, len(imgs), batch_size)
            ]
            res = np.concatenate(out) if out else imgs.copy()
            return res[0] if single else res
        finally:
            self.train(was)


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: (rendered, real-or-refined) pair -> (B, 1, S/8, S/8) logits."""

    def __init__(self, base_channels: int = 32) -> None:
        super().__init__()
        c = base_channels
        self.net = nn.Sequential(
            nn.Conv2d(6, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            _ConvBlock(c, 2 * c, k=4, stride=2),
            _ConvBlock(2 * c, 4 * c, k=4, stride=2),
            nn.Conv2d(4 * c, 1, 3, padding=1),
        )  # fmt: skip

    def forward(self, cond: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([cond, image], dim=1))


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 RGB (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def tensor_to_images(x: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [-1, 1] -> uint8 RGB (N, H, W, 3)."""
    y = ((x.detach().clamp(-1, 1) + 1.0) * 127.5 + 0.5).clamp(0, 255).to(torch.uint8)
    return y.permute(0, 2, 3, 1).cpu().numpy()
