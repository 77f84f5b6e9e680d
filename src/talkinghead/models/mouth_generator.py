"""Learned mouth region: inpaint the lower-face crop from a reference and a target shape.

Wav2Lip / MuseTalk-style, small enough for the CPU, conditioned on landmarks. The crop
(:func:`mouth_crop_matrix`) is a ``S x S`` square centred on the mouth, rotated so that the
eyes are level, ``CROP_IOD`` inter-ocular distances a side. Inputs, all ``S x S``:

- ``masked`` (3): the frame's crop with the mouth region (:func:`mouth_mask`) set to 0,
- ``mask`` (1): that region (1 = to generate),
- ``reference`` (3): a crop of the same person (any frame: its appearance, teeth, lips),
- ``shape`` (2): the target mouth drawn from the 68 points (:func:`shape_maps`): the
  inner-lip polygon filled (the opening) and the lips (outer minus inner polygon).
- with ``config.guide`` (issue 18, session 11), ``guide`` (3): the *procedural* interior
  (:func:`talkinghead.render.photo.procedural_guide`: drawn teeth and cavity at the target
  lips, coloured from the reference, on mid-grey = 0; 0 where the mouth is not opened
  wider than in the reference), so the net knows where teeth and cavity go and repaints
  them. :meth:`MouthGenerator.with_guide` adds these channels to an unguided generator
  with zero first-layer weights (its output is then unchanged).

Network (``c = base_channels``; ``S`` divisible by 8)::

    x (B, 9, S, S)  (B, 12, S, S) with the guide
    enc0 conv3x3           -> (B, c,  S,   S)
    enc1 conv4x4 stride 2  -> (B, 2c, S/2, S/2)
    enc2 conv4x4 stride 2  -> (B, 4c, S/4, S/4)
    enc3 conv4x4 stride 2  -> (B, 4c, S/8, S/8)
    n_res residual blocks
    dec3/dec2/dec1 up x2 + skips -> (B, c, S, S)
    out conv3x3 + tanh     -> (B, 3, S, S) in [-1, 1]; composited: masked outside the mask

A checkpoint folder (:meth:`MouthGenerator.save_pretrained`) holds ``config.json`` and
``model.safetensors`` (:class:`~talkinghead._util.checkpoint.TorchModuleCheckpoint`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._util.checkpoint import TorchModuleCheckpoint
from ..errors import InvalidArgumentError
from .refiner import _ConvBlock, _norm  # the same conv + GroupNorm + LeakyReLU blocks

__all__ = [
    "MouthGeneratorConfig",
    "MouthGenerator",
    "CROP_IOD",
    "mouth_crop_matrix",
    "mouth_mask",
    "shape_maps",
    "generator_inputs",
    "paste_mouth",
    "region_mask",
    "feather",
    "crop_points",
    "reference_crop",
]

_FORMAT = "talkinghead.mouth_generator"
_VERSION = 1
#: Side of the mouth crop in inter-ocular distances.
CROP_IOD = 1.6
#: The mouth region is the outer-lip hull grown by this many inter-ocular distances.
MASK_GROW = 0.18


@dataclass
class MouthGeneratorConfig:
    """Hyper-parameters.

    Attributes
    ----------
    size : int
        Crop side ``S`` (a multiple of 8).
    base_channels : int
        ``c`` in the module docstring.
    n_res : int
        Residual blocks at the bottleneck.
    guide : bool
        Three more input channels: the procedural interior at the target lips.
    """

    size: int = 96
    base_channels: int = 16
    n_res: int = 1
    guide: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.guide, bool):
            raise InvalidArgumentError(f"MouthGeneratorConfig.guide={self.guide!r} must be a bool")
        for f in fields(self):
            if f.name == "guide":
                continue
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise InvalidArgumentError(
                    f"MouthGeneratorConfig.{f.name}={v!r} must be a positive int"
                )
        if self.size % 8:
            raise InvalidArgumentError(
                f"MouthGeneratorConfig.size={self.size} must be a multiple of 8"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def in_channels(self) -> int:
        """Input channels: 9, or 12 with the guide."""
        return 12 if self.guide else 9

    @classmethod
    def from_dict(cls, d: dict) -> MouthGeneratorConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidArgumentError(f"MouthGeneratorConfig has no fields {sorted(unknown)}")
        return cls(**d)


# ---------------------------------------------------------------------- crop geometry


def mouth_crop_matrix(lm68: np.ndarray, size: int) -> np.ndarray:
    """Affine (2, 3) from image pixels to the ``size`` px mouth crop of 68 points ``lm68``.

    Eyes level, mouth centre (mean of points 48-67) at the crop centre, ``CROP_IOD``
    eye distances a side.
    """
    lm = np.asarray(lm68, dtype=np.float64)
    if lm.shape != (68, 2):
        raise InvalidArgumentError(f"lm68.shape={lm.shape} must be (68, 2)")
    le, re_ = lm[36:42].mean(0), lm[42:48].mean(0)
    d = re_ - le
    iod = max(float(np.hypot(*d)), 1e-6)
    s = size / (CROP_IOD * iod)
    c, si = d[0] / iod * s, d[1] / iod * s  # rotate by -angle, scale by s
    A = np.array([[c, si], [-si, c]])
    centre = lm[48:68].mean(0)
    t = np.array([size / 2, size / 2]) - A @ centre
    return np.column_stack([A, t])


def crop_points(M: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points (N, 2) through the (2, 3) affine ``M`` (e.g. :func:`mouth_crop_matrix`)."""
    return np.asarray(pts, np.float64) @ M[:, :2].T + M[:, 2]


def mouth_mask(lm_crop: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 in {0, 1}: the outer-lip hull of crop-space points, grown by
    ``MASK_GROW`` eye distances (``size / CROP_IOD`` px each)."""
    import cv2

    m = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(lm_crop[48:60] * 4).astype(np.int32))
    cv2.fillConvexPoly(m, hull, 1, lineType=cv2.LINE_8, shift=2)
    r = max(1, int(round(MASK_GROW * size / CROP_IOD)))
    m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return m.astype(np.float32)


def shape_maps(lm_crop: np.ndarray, size: int) -> np.ndarray:
    """(2, size, size) float32: the inner-lip polygon filled, the lips (outer minus inner)."""
    import cv2

    inner = np.zeros((size, size), np.uint8)
    outer = np.zeros((size, size), np.uint8)
    cv2.fillPoly(inner, [np.round(lm_crop[60:68] * 4).astype(np.int32)], 1, cv2.LINE_AA, 2)
    cv2.fillPoly(outer, [np.round(lm_crop[48:60] * 4).astype(np.int32)], 1, cv2.LINE_AA, 2)
    inner_f = inner.astype(np.float32)
    return np.stack([inner_f, np.clip(outer.astype(np.float32) - inner_f, 0, 1)])


def generator_inputs(
    crop: np.ndarray, reference: np.ndarray, lm_crop: np.ndarray, guide: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Network input (9, S, S) float32 (12 with ``guide``) and the mask (S, S) for one crop.

    Parameters
    ----------
    crop : ndarray, shape (S, S, 3), uint8 RGB
        The frame's mouth crop (its mouth region is masked out here).
    reference : ndarray, shape (S, S, 3), uint8 RGB
        A crop of the same person.
    lm_crop : ndarray, shape (68, 2)
        The target 68 points in crop pixels.
    guide : ndarray, shape (3, S, S), optional
        The procedural interior (:func:`talkinghead.render.photo.procedural_guide`),
        appended as channels 9-11.
    """
    S = crop.shape[0]
    m = mouth_mask(lm_crop, S)
    x = crop.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    r = reference.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    parts = [x * (1 - m), m[None], r, shape_maps(lm_crop, S)]
    if guide is not None:
        g = np.asarray(guide, np.float32)
        if g.shape != (3, S, S):
            raise InvalidArgumentError(f"guide.shape={g.shape} must be (3, {S}, {S})")
        parts.append(g)
    inp = np.concatenate(parts)
    return np.ascontiguousarray(inp, np.float32), m


# ---------------------------------------------------------------------- network


class _ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_ConvBlock(ch, ch), nn.Conv2d(ch, ch, 3, padding=1), _norm(ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.body(x), 0.2)


class _Up(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.merge = _ConvBlock(cin + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.merge(torch.cat([x, skip], dim=1))


class MouthGenerator(nn.Module, TorchModuleCheckpoint):
    """Conv encoder-decoder inpainting the mouth crop (see the module docstring).

    ``forward(x)``: ``x`` (B, 9, S, S) (12 channels with ``config.guide``) -> (B, 3, S, S)
    in [-1, 1] (raw, not composited).
    """

    checkpoint_format = _FORMAT
    checkpoint_version = _VERSION
    checkpoint_what = "mouth generator checkpoint"
    weights_what = "mouth generator weights"
    half_default = False
    config_class = MouthGeneratorConfig

    def __init__(self, config: MouthGeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or MouthGeneratorConfig()
        c = self.config.base_channels
        self.enc0 = _ConvBlock(self.config.in_channels, c)
        self.enc1 = _ConvBlock(c, 2 * c, k=4, stride=2)
        self.enc2 = _ConvBlock(2 * c, 4 * c, k=4, stride=2)
        self.enc3 = _ConvBlock(4 * c, 4 * c, k=4, stride=2)
        self.res = nn.Sequential(*[_ResBlock(4 * c) for _ in range(self.config.n_res)])
        self.dec3 = _Up(4 * c, 4 * c, 4 * c)
        self.dec2 = _Up(4 * c, 2 * c, 2 * c)
        self.dec1 = _Up(2 * c, c, c)
        self.out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.config.in_channels
        if x.ndim != 4 or x.shape[1] != n or x.shape[-1] % 8 or x.shape[-2] % 8:
            raise InvalidArgumentError(
                f"x.shape={tuple(x.shape)} must be (B, {n}, H, W) with H, W multiples of 8"
            )
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        h = self.res(self.enc3(e2))
        h = self.dec1(self.dec2(self.dec3(h, e2), e1), e0)
        return torch.tanh(self.out(h))

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def with_guide(cls, src: MouthGenerator) -> MouthGenerator:
        """A guided copy of the unguided ``src``: its weights, and zero first-layer weights
        for the three guide channels, so that its output equals ``src``'s at the start."""
        if src.config.guide:
            raise InvalidArgumentError("src.config.guide=True must be False (already guided)")
        cfg = MouthGeneratorConfig.from_dict({**src.config.to_dict(), "guide": True})
        model = cls(cfg)
        state = dict(src.state_dict())
        w = state["enc0.0.weight"]
        state["enc0.0.weight"] = torch.cat([w, torch.zeros_like(w[:, :3])], dim=1)
        model.load_state_dict(state)
        return model.train(src.training)

    @torch.no_grad()
    def generate(
        self,
        crop: np.ndarray,
        reference: np.ndarray,
        lm_crop: np.ndarray,
        guide: np.ndarray | None = None,
    ):
        """Inpaint one crop: uint8 (S, S, 3) and the mask (S, S) it filled (eval mode).

        Parameters are those of :func:`generator_inputs`; ``S`` must be ``config.size``;
        ``guide`` is required with ``config.guide`` (and refused without).
        """
        S = self.config.size
        if crop.shape != (S, S, 3) or reference.shape != (S, S, 3):
            raise InvalidArgumentError(
                f"crop.shape={crop.shape}, reference.shape={reference.shape} must be ({S}, {S}, 3)"
            )
        if (guide is None) == self.config.guide:
            raise InvalidArgumentError(
                f"guide={'None' if guide is None else 'an array'} must be given exactly when "
                f"config.guide=True (it is {self.config.guide})"
            )
        was = self.training
        self.eval()
        try:
            inp, m = generator_inputs(crop, reference, lm_crop, guide)
            y = self(torch.from_numpy(inp)[None])[0].numpy().transpose(1, 2, 0)
        finally:
            self.train(was)
        y = np.clip((y + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        return y, m


def region_mask(lm_crop: np.ndarray, size: int, *, opening_only: bool) -> np.ndarray:
    """(size, size) float32 {0, 1}: the generated region of a crop (:func:`mouth_mask`;
    with ``opening_only`` its part inside the inner lips grown by 0.05 eye distances)."""
    import cv2

    m = mouth_mask(lm_crop, size)
    if opening_only:
        inner = shape_maps(lm_crop, size)[0]
        r = max(1, int(round(0.05 * size / CROP_IOD)))
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        m = m * cv2.dilate(inner, k)
    return m


def feather(mask: np.ndarray) -> np.ndarray:
    """The paste weight of a region mask (Gaussian, sigma = side / 48)."""
    import cv2

    return cv2.GaussianBlur(mask, (0, 0), max(1.0, mask.shape[0] / 48))


def paste_mouth(
    image: np.ndarray,
    lm68: np.ndarray,
    reference: np.ndarray,
    model: MouthGenerator,
    *,
    opening_only: bool = False,
    guide=None,
) -> np.ndarray:
    """Generate the mouth region of ``image`` (H, W, 3 uint8, in place) for its target
    points ``lm68`` from the person's ``reference`` crop (S, S, 3); pasted back feathered.
    ``opening_only``: keep the generated pixels only inside the inner lips (grown by 0.05
    eye distances): the lips stay the warped photo's, the interior is generated.
    ``guide`` (for a guided model): a function of the target crop points (68, 2) giving
    the guide (3, S, S) (e.g. :func:`talkinghead.render.photo.procedural_guide`)."""
    import cv2

    S = model.config.size
    M = mouth_crop_matrix(lm68, S)
    crop = cv2.warpAffine(image, M, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    pts = crop_points(M, lm68)
    gen, _ = model.generate(crop, reference, pts, None if guide is None else guide(pts))
    return _paste_crop(image, gen, feather(region_mask(pts, S, opening_only=opening_only)), M)


def _paste_crop(image: np.ndarray, crop: np.ndarray, alpha: np.ndarray, M: np.ndarray):
    """Blend ``crop`` (S, S, 3) with weight ``alpha`` (S, S) back into ``image`` (in place)
    through the inverse of its crop affine ``M`` (only the crop's bounding box changes)."""
    import cv2

    S = crop.shape[0]
    Mi = cv2.invertAffineTransform(M)
    h, w = image.shape[:2]
    corners = crop_points(Mi, np.array([[0, 0], [S, 0], [0, S], [S, S]], np.float64))
    x0, y0 = np.clip(np.floor(corners.min(0)).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 1, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return image
    Mr = Mi.copy()
    Mr[:, 2] -= [x0, y0]  # only the crop's bounding box of the image
    size = (int(x1 - x0), int(y1 - y0))
    back = cv2.warpAffine(crop, Mr, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    a = cv2.warpAffine(alpha, Mr, size, flags=cv2.INTER_LINEAR)[..., None]
    reg = image[y0:y1, x0:x1].astype(np.float32)
    out = reg + (back.astype(np.float32) - reg) * a
    image[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return image


def reference_crop(image: np.ndarray, lm68: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` px mouth crop (:func:`mouth_crop_matrix`) of ``image`` (uint8 RGB)."""
    import cv2

    M = mouth_crop_matrix(lm68, size)
    return cv2.warpAffine(image, M, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
