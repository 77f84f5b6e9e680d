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
- with ``config.teeth`` (issue 18, session 12), ``teeth`` (1, last): the teeth control,
  a scalar ``k`` in [0, 1] filling the target inner-lip polygon (0 elsewhere): how much
  teeth show (:func:`talkinghead.face.teeth.teeth_value`, measured on the real target in
  training); at inference ``k`` is predicted from the target 68 points by a linear
  regression (:func:`teeth_features`, :func:`fit_teeth_regression`, coefficients in
  ``config.teeth_coef``). :meth:`MouthGenerator.with_teeth` adds the channel with zero
  first-layer weights.

Network (``c = base_channels``; ``S`` divisible by 8)::

    x (B, 9, S, S)  (+3 with the guide, +1 with the teeth control)
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
    "TEETH_FEATURES",
    "teeth_features",
    "fit_teeth_regression",
    "predict_teeth",
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
    teeth : bool
        One more input channel (the last): the teeth control ``k`` in the inner lips.
    teeth_coef : list of float, optional
        The teeth regression (:func:`fit_teeth_regression`): ``len(TEETH_FEATURES) + 1``
        numbers (intercept first) giving ``k`` from the target points when no ``k`` is
        passed; only with ``teeth``.
    """

    size: int = 96
    base_channels: int = 16
    n_res: int = 1
    guide: bool = False
    teeth: bool = False
    teeth_coef: list | None = None

    def __post_init__(self) -> None:
        for name in ("guide", "teeth"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgumentError(
                    f"MouthGeneratorConfig.{name}={getattr(self, name)!r} must be a bool"
                )
        if self.teeth_coef is not None:
            c = self.teeth_coef
            n = len(TEETH_FEATURES) + 1
            ok = isinstance(c, (list, tuple)) and len(c) == n
            ok = ok and all(isinstance(v, (int, float)) and np.isfinite(v) for v in c)
            if not ok or not self.teeth:
                raise InvalidArgumentError(
                    f"MouthGeneratorConfig.teeth_coef={c!r} must be {n} finite numbers, "
                    "with teeth=True"
                )
            self.teeth_coef = [float(v) for v in c]
        for f in fields(self):
            if f.name in ("guide", "teeth", "teeth_coef"):
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
        """Input channels: 9, + 3 with the guide, + 1 with the teeth control."""
        return 9 + 3 * self.guide + self.teeth

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
    crop: np.ndarray,
    reference: np.ndarray,
    lm_crop: np.ndarray,
    guide: np.ndarray | None = None,
    teeth: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Network input (9, S, S) float32 (+3 with ``guide``, +1 with ``teeth``) and the mask
    (S, S) for one crop.

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
    teeth : float, optional
        The teeth control ``k`` in [0, 1]: appended last, ``k`` inside the inner-lip polygon.
    """
    S = crop.shape[0]
    m = mouth_mask(lm_crop, S)
    x = crop.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    r = reference.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    shp = shape_maps(lm_crop, S)
    parts = [x * (1 - m), m[None], r, shp]
    if guide is not None:
        g = np.asarray(guide, np.float32)
        if g.shape != (3, S, S):
            raise InvalidArgumentError(f"guide.shape={g.shape} must be (3, {S}, {S})")
        parts.append(g)
    if teeth is not None:
        k = float(teeth)
        if not 0.0 <= k <= 1.0:
            raise InvalidArgumentError(f"teeth={teeth!r} must be in [0, 1]")
        parts.append(shp[:1] * np.float32(k))
    inp = np.concatenate(parts)
    return np.ascontiguousarray(inp, np.float32), m


# ---------------------------------------------------------------------- teeth control

#: The target-shape features of the teeth regression (:func:`teeth_features`), all in
#: eye distances: the inner-lip gap, the mouth width (corners 48-54), the inner width
#: (60-64), the upper lip's thickness (50-52 to 61-63), the lower lip's (56-58 to 65-67),
#: and the gap squared.
TEETH_FEATURES = ("opening", "width", "inner_width", "upper_lip", "lower_lip", "opening_sq")


def teeth_features(lm: np.ndarray) -> np.ndarray:
    """(len(TEETH_FEATURES),) float64 (or (N, F) for (N, 68, 2) points): the target-shape
    features of the teeth regression, from 68 points in any pixel frame."""
    p = np.asarray(lm, np.float64)
    if p.shape[-2:] != (68, 2):
        raise InvalidArgumentError(f"lm.shape={p.shape} must be (68, 2) or (N, 68, 2)")

    def dist(a, b):
        return np.linalg.norm(p[..., a, :] - p[..., b, :], axis=-1)

    iod = np.maximum(np.linalg.norm(p[..., 42:48, :].mean(-2) - p[..., 36:42, :].mean(-2),
                                    axis=-1), 1e-6)  # fmt: skip
    gap = dist([61, 62, 63], [67, 66, 65]).mean(-1) / iod
    f = [gap, dist(48, 54) / iod, dist(60, 64) / iod,
         dist([50, 51, 52], [61, 62, 63]).mean(-1) / iod,
         dist([58, 57, 56], [67, 66, 65]).mean(-1) / iod, gap**2]  # fmt: skip
    return np.stack(f, -1)


def fit_teeth_regression(lm: np.ndarray, k: np.ndarray, *, ridge: float = 1e-3) -> list:
    """Least squares (+ ``ridge`` x the squared weights, not the intercept) of ``k`` (N,)
    on :func:`teeth_features` of ``lm`` (N, 68, 2): the coefficients, intercept first
    (``MouthGeneratorConfig.teeth_coef``)."""
    X = teeth_features(lm)
    y = np.asarray(k, np.float64)
    if X.ndim != 2 or y.shape != (len(X),) or len(X) < X.shape[1] + 1:
        raise InvalidArgumentError(
            f"lm.shape={np.shape(lm)}, k.shape={y.shape} must be (N, 68, 2) and (N,), "
            f"N > {X.shape[-1]}"
        )
    if not np.isfinite(y).all() or ridge < 0:
        raise InvalidArgumentError(f"k must be finite and ridge={ridge} >= 0")
    A = np.column_stack([np.ones(len(X)), X])
    R = ridge * len(X) * np.eye(A.shape[1])
    R[0, 0] = 0.0
    return np.linalg.solve(A.T @ A + R, A.T @ y).tolist()


def predict_teeth(coef, lm: np.ndarray) -> np.ndarray | float:
    """``k`` in [0, 1] of 68 points ``lm`` (68, 2) (a float) or (N, 68, 2) by the
    :func:`fit_teeth_regression` coefficients ``coef``; 0 for a closed mouth (inner gap
    under 0.03 eye distances)."""
    c = np.asarray(coef, np.float64)
    if c.shape != (len(TEETH_FEATURES) + 1,):
        raise InvalidArgumentError(
            f"coef has {c.size} numbers, must have {len(TEETH_FEATURES) + 1}"
        )
    X = teeth_features(lm)
    k = np.clip(c[0] + X @ c[1:], 0.0, 1.0) * (X[..., 0] >= 0.03)
    return float(k) if np.ndim(k) == 0 else k


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

    ``forward(x)``: ``x`` (B, ``config.in_channels``, S, S) -> (B, 3, S, S) in [-1, 1]
    (raw, not composited).
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
        if src.config.teeth:
            raise InvalidArgumentError("src.config.teeth=True must be False (add the guide first)")
        return cls._widen(src, {"guide": True}, 3)

    @classmethod
    def with_teeth(cls, src: MouthGenerator, teeth_coef=None) -> MouthGenerator:
        """A copy of ``src`` (guided or not) with the teeth control: its weights, and zero
        first-layer weights for the teeth channel, so that its output equals ``src``'s at
        the start, whatever ``k``. ``teeth_coef``: the regression giving ``k`` at inference
        (:func:`fit_teeth_regression`; may be set later in ``config.teeth_coef``)."""
        if src.config.teeth:
            raise InvalidArgumentError("src.config.teeth=True must be False (already has it)")
        coef = None if teeth_coef is None else list(teeth_coef)
        return cls._widen(src, {"teeth": True, "teeth_coef": coef}, 1)

    @classmethod
    def _widen(cls, src: MouthGenerator, change: dict, n: int) -> MouthGenerator:
        """``src`` with ``change`` in its config and ``n`` zero-weight input channels last."""
        cfg = MouthGeneratorConfig.from_dict({**src.config.to_dict(), **change})
        model = cls(cfg)
        state = dict(src.state_dict())
        w = state["enc0.0.weight"]
        state["enc0.0.weight"] = torch.cat([w, w.new_zeros((w.shape[0], n, *w.shape[2:]))], 1)
        model.load_state_dict(state)
        return model.train(src.training)

    def teeth_for(self, lm_crop: np.ndarray) -> float:
        """The teeth control ``k`` this (teeth) generator uses for target points ``lm_crop``
        (68, 2) when none is given: :func:`predict_teeth` with ``config.teeth_coef`` times
        ``teeth_scale`` (an attribute, 1.0 by default; not saved), clipped to [0, 1]."""
        if not self.config.teeth or self.config.teeth_coef is None:
            raise InvalidArgumentError(
                "config.teeth=True with config.teeth_coef must be set to predict teeth"
            )
        k = predict_teeth(self.config.teeth_coef, lm_crop) * float(self.teeth_scale)
        return float(np.clip(k, 0.0, 1.0))

    #: Multiplies the predicted teeth control (:meth:`teeth_for`); a user setting.
    teeth_scale: float = 1.0

    @torch.no_grad()
    def generate(
        self,
        crop: np.ndarray,
        reference: np.ndarray,
        lm_crop: np.ndarray,
        guide: np.ndarray | None = None,
        teeth: float | None = None,
    ):
        """Inpaint one crop: uint8 (S, S, 3) and the mask (S, S) it filled (eval mode).

        Parameters are those of :func:`generator_inputs`; ``S`` must be ``config.size``;
        ``guide`` is required with ``config.guide`` (and refused without); ``teeth`` is
        refused without ``config.teeth``, and with it defaults to :meth:`teeth_for`.
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
        if teeth is not None and not self.config.teeth:
            raise InvalidArgumentError(f"teeth={teeth!r} must be None when config.teeth=False")
        if self.config.teeth and teeth is None:
            teeth = self.teeth_for(lm_crop)
        was = self.training
        self.eval()
        try:
            inp, m = generator_inputs(crop, reference, lm_crop, guide, teeth)
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
