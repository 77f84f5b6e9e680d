"""Learned mouth detail: the learned mouth at the face's own resolution (issue 18, session 10).

The learned mouth (:mod:`talkinghead.models.mouth_generator`) inpaints a 96 px crop
(``CROP_IOD`` = 1.6 eye distances a side). On a large face that crop is upscaled several
times when pasted back (a 2048 px portrait: 15x), a smeared opening. :class:`MouthDetail`
is a small fully convolutional net that doubles it: given the generator's composite upsampled
(bicubic) to ``N`` px, the frame's own ``N`` px crop with the mouth region hidden, that region,
the person's reference crop at ``N`` px (the photo's own lips and teeth, sharp) and the target
lips drawn at ``N`` px (:func:`~talkinghead.models.mouth_generator.shape_maps`), it predicts a
residual on the upsample. Trained on training-side clips with large faces (real ``N`` px
crops as targets, the shipped generator's output on their 96 px version as input, the
reference from another frame of the same clip: it learns to sharpen the generator's blur).

:func:`detail_sizes` picks the passes from the mouth crop's native size: none when it is at
most ``DETAIL_MIN_RATIO`` x 96 px (then the 96 px path is pasted as before), else one pass
to ``min(192, native)`` and, for very large faces, a second one to ``min(384, native)``.
:func:`paste_mouth_detailed` runs the generator and the passes and pastes the result back
feathered, changing only the mouth region.

Network (``c = base_channels``; ``N`` even)::

    x (B, 12, N, N) = base (3) | masked crop (3) | mask (1) | reference (3) | shape (2)
    enc  conv3x3           -> (B, c,  N,   N)
    down conv4x4 stride 2  -> (B, 2c, N/2, N/2), n_res residual blocks
    up x2, concat enc, conv3x3 -> (B, c, N, N)
    out conv3x3 (zero init) -> residual; y = clamp(base + residual, -1, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn

from .._util.checkpoint import TorchModuleCheckpoint
from ..errors import InvalidArgumentError
from .mouth_generator import (  # region_mask, feather: re-exported (this module's API)
    CROP_IOD,
    _ResBlock,
    _Up,
    crop_points,
    feather,
    mouth_crop_matrix,
    region_mask,
    shape_maps,
)
from .refiner import _ConvBlock

__all__ = [
    "MouthDetailConfig",
    "MouthDetail",
    "DETAIL_MIN_RATIO",
    "detail_sizes",
    "detail_inputs",
    "region_mask",
    "feather",
    "native_crop",
    "generator_composite",
    "paste_mouth_detailed",
]

_FORMAT = "talkinghead.mouth_detail"
_VERSION = 1
#: A detail pass runs only when the mouth crop's native side exceeds this x the current one.
DETAIL_MIN_RATIO = 1.3
#: Most passes (96 -> 192 -> 384 px).
MAX_PASSES = 2


@dataclass
class MouthDetailConfig:
    """Hyper-parameters.

    Attributes
    ----------
    base_channels : int
        ``c`` in the module docstring.
    n_res : int
        Residual blocks at half resolution.
    """

    base_channels: int = 16
    n_res: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise InvalidArgumentError(
                    f"MouthDetailConfig.{f.name}={v!r} must be a positive int"
                )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> MouthDetailConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidArgumentError(f"MouthDetailConfig has no fields {sorted(unknown)}")
        return cls(**d)


# ---------------------------------------------------------------------- geometry


def _round8(x: float) -> int:
    return max(8, int(round(x / 8.0)) * 8)


def native_side(lm68: np.ndarray) -> float:
    """Side in image pixels of the mouth crop of ``lm68`` (``CROP_IOD`` eye distances)."""
    lm = np.asarray(lm68, np.float64)
    return CROP_IOD * float(np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)))


def detail_sizes(native: float, base: int = 96, max_passes: int = MAX_PASSES) -> list[int]:
    """Crop sides of the detail passes for a mouth crop of ``native`` image pixels.

    From ``base``, each pass doubles the side (at most to ``native``, rounded to 8) while
    ``native`` exceeds ``DETAIL_MIN_RATIO`` x the current side; ``[]``: no pass.
    """
    if max_passes < 0:
        raise InvalidArgumentError(f"max_passes={max_passes} must be >= 0")
    sizes, s = [], int(base)
    while len(sizes) < max_passes and native > DETAIL_MIN_RATIO * s:
        s = min(2 * s, _round8(native))
        sizes.append(s)
    return sizes


def native_crop(image: np.ndarray, lm68: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` px mouth crop of ``image``: warped at about its native scale, then
    area-downsampled to ``size`` (no aliasing on large faces)."""
    import cv2

    n = max(size, _round8(native_side(lm68)))
    M = mouth_crop_matrix(lm68, n)
    c = cv2.warpAffine(image, M, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if n != size:
        c = cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)
    return c


def detail_inputs(
    base: np.ndarray,
    crop: np.ndarray,
    mask: np.ndarray,
    reference: np.ndarray,
    lm_crop: np.ndarray | None = None,
    *,
    shape: np.ndarray | None = None,
) -> np.ndarray:
    """Network input (12, N, N) float32.

    Parameters
    ----------
    base : ndarray (N, N, 3) uint8
        The lower-resolution composite upsampled to ``N`` (bicubic).
    crop : ndarray (N, N, 3) uint8
        The frame's ``N`` px mouth crop (hidden inside ``mask`` here).
    mask : ndarray (N, N)
        The region to generate (:func:`region_mask`).
    reference : ndarray (N, N, 3) uint8
        The person's ``N`` px mouth crop.
    lm_crop : ndarray (68, 2), optional
        The target points in crop pixels (for the shape maps), or ``shape`` (2, N, N) itself.
    """
    N = crop.shape[0]
    for name, a in (("base", base), ("crop", crop), ("reference", reference)):
        if a.shape != (N, N, 3):
            raise InvalidArgumentError(f"{name}.shape={a.shape} must be ({N}, {N}, 3)")
    if shape is None:
        if lm_crop is None:
            raise InvalidArgumentError("lm_crop=None must be given when shape=None")
        shape = shape_maps(lm_crop, N)
    m = np.asarray(mask, np.float32)

    def f(a):
        return a.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0

    inp = np.concatenate([f(base), f(crop) * (1 - m), m[None], f(reference), shape])
    return np.ascontiguousarray(inp, np.float32)


# ---------------------------------------------------------------------- network


class MouthDetail(nn.Module, TorchModuleCheckpoint):
    """Residual 2x mouth sharpener (see the module docstring).

    ``forward(x)``: ``x`` (B, 12, N, N) -> (B, 3, N, N) in [-1, 1] (raw, not composited).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "mouth detail checkpoint"
    weights_what = "mouth detail weights"
    half_default = False
    config_class = MouthDetailConfig

    def __init__(self, config: MouthDetailConfig | None = None) -> None:
        super().__init__()
        self.config = config or MouthDetailConfig()
        c = self.config.base_channels
        self.enc = _ConvBlock(12, c)
        self.down = _ConvBlock(c, 2 * c, k=4, stride=2)
        self.res = nn.Sequential(*[_ResBlock(2 * c) for _ in range(self.config.n_res)])
        self.up = _Up(2 * c, c, c)
        self.out = nn.Conv2d(c, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 12 or x.shape[-1] % 2 or x.shape[-2] % 2:
            raise InvalidArgumentError(
                f"x.shape={tuple(x.shape)} must be (B, 12, H, W) with H, W even"
            )
        e = self.enc(x)
        h = self.up(self.res(self.down(e)), e)
        return torch.clamp(x[:, :3] + self.out(h), -1.0, 1.0)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def refine(self, base, crop, mask, reference, lm_crop) -> np.ndarray:
        """One pass: uint8 (N, N, 3) from :func:`detail_inputs`' arguments (eval mode)."""
        inp = detail_inputs(base, crop, mask, reference, lm_crop)
        was = self.training
        self.eval()
        try:
            y = self(torch.from_numpy(inp)[None])[0].numpy().transpose(1, 2, 0)
        finally:
            self.train(was)
        return np.clip((y + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------- the pipeline


def generator_composite(crop, reference, lm_crop, generator, *, opening_only: bool, guide=None):
    """The learned mouth's 96 px result composited into ``crop`` as ``paste_mouth`` pastes
    it (feathered over :func:`region_mask`): uint8 (S, S, 3). ``guide``: as in
    :func:`~talkinghead.models.mouth_generator.paste_mouth` (a guided generator)."""
    gen, _ = generator.generate(crop, reference, lm_crop,
                                None if guide is None else guide(lm_crop))  # fmt: skip
    a = feather(region_mask(lm_crop, crop.shape[0], opening_only=opening_only))[..., None]
    out = crop.astype(np.float32) + (gen.astype(np.float32) - crop) * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def detail_passes(composite, crops, refs, pts, detail, *, opening_only: bool) -> np.ndarray:
    """Run the passes: ``composite`` (S px) -> each ``crops[k]`` size in turn; returns the
    last composite (the pass's output feathered into that crop)."""
    import cv2

    cur = composite
    for crop, ref, p in zip(crops, refs, pts, strict=True):
        N = crop.shape[0]
        base = cv2.resize(cur, (N, N), interpolation=cv2.INTER_CUBIC)
        m = region_mask(p, N, opening_only=opening_only)
        y = detail.refine(base, crop, m, ref, p)
        a = feather(m)[..., None]
        cur = np.clip(crop + (y.astype(np.float32) - crop) * a + 0.5, 0, 255).astype(np.uint8)
    return cur


def paste_mouth_detailed(
    image: np.ndarray,
    lm68: np.ndarray,
    reference: Callable[[int], np.ndarray],
    generator,
    detail: MouthDetail | None,
    *,
    opening_only: bool = False,
    max_passes: int = MAX_PASSES,
    guide=None,
) -> np.ndarray:
    """The learned mouth at the face's resolution, pasted into ``image`` (in place).

    ``reference(n)``: the person's ``n`` px mouth crop (e.g. :func:`native_crop` of the
    photo). Without ``detail`` or when :func:`detail_sizes` gives no pass, this is
    :func:`~talkinghead.models.mouth_generator.paste_mouth` at 96 px. Otherwise the
    generator inpaints the 96 px version of the frame's crop and the passes sharpen it to
    the last size, which is pasted back feathered over the mouth region only. ``guide``:
    for a guided generator, a function of the 96 px target crop points giving its guide
    (:func:`~talkinghead.models.mouth_generator.paste_mouth`).
    """
    from .mouth_generator import _paste_crop, paste_mouth

    S = generator.config.size
    sizes = [] if detail is None else detail_sizes(native_side(lm68), S, max_passes)
    if not sizes:
        return paste_mouth(image, lm68, reference(S), generator, opening_only=opening_only,
                           guide=guide)  # fmt: skip
    top = native_crop(image, lm68, sizes[-1])
    import cv2

    def down(n):
        return top if n == sizes[-1] else cv2.resize(top, (n, n), interpolation=cv2.INTER_AREA)

    pts = {n: crop_points(mouth_crop_matrix(lm68, n), lm68) for n in [S, *sizes]}
    comp = generator_composite(down(S), reference(S), pts[S], generator,
                               opening_only=opening_only, guide=guide)  # fmt: skip
    out = detail_passes(comp, [down(n) for n in sizes], [reference(n) for n in sizes],
                        [pts[n] for n in sizes], detail, opening_only=opening_only)  # fmt: skip
    N = sizes[-1]
    a = feather(region_mask(pts[N], N, opening_only=opening_only))
    return _paste_crop(image, out, a, mouth_crop_matrix(lm68, N))
