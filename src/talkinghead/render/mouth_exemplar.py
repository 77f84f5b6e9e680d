"""An exemplar mouth interior for the photo path: real mouths, copied and warped.

**Data-driven, not generated**: the inside of the target inner lips is copied from a bank of
real mouth crops (:class:`MouthBank`), in the manner of Video Rewrite (Bregler et al. 1997):

- one **donor** per photo, the bank's person whose lip colour is closest to the photo's
  (so that one set of teeth is seen throughout the video);
- per frame, the donor's frame whose **inner-lip shape** (points 60-67, eyes level, in
  eye distances about the mouth centre) is nearest the target's, with a penalty for
  switching from the previous frame's choice (fewer jumps in the teeth);
- its inner-lip region **warped piecewise-affinely** onto the target inner lips
  (a fan of triangles about the polygon's centre);
- **colour-scaled** per channel by the photo's lip colour / the crop's own, its deviation
  from that colour then multiplied by ``contrast`` (1.35: the bank's low-resolution video has
  flatter teeth than sharper photos);
- blended in as the procedural interior is (:mod:`talkinghead.render.mouth`): a feathered
  inner-lip mask whose strength grows as the lips open wider than in the photo.

The shipped bank (:data:`MOUTH_BANK_DIR`) holds crops of the GRID speakers on the training
side of the ``mouth_v2`` split whose teeth show in most open frames (four of eight; GRID is
CC BY 4.0: its ``ATTRIBUTION.md``); it is rebuilt by ``scripts/build_mouth_bank.py``
(Makefile ``pretrained``). Measured in docs/photo.md (session 15): an option
(``--mouth exemplar``), not the default.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import MOUTH_BANK_DIR
from ..errors import InvalidArgumentError

__all__ = [
    "MOUTH_BANK_DIR",
    "MouthBank",
    "ExemplarMouth",
    "canonical_matrix",
    "lip_shape",
    "load_mouth_bank",
    "bank_frames",
]


#: Crop geometry: pixels per eye distance, and the crop's extent about the mouth centre in
#: eye distances (width, height).
PX_PER_IOD = 50.0
EXTENT = (1.6, 1.0)


def canonical_matrix(lm68: np.ndarray, *, px_per_iod: float = PX_PER_IOD) -> np.ndarray:
    """Affine (2, 3) from image pixels to the bank's crop of the 68 points ``lm68``.

    Eyes level, ``px_per_iod`` pixels per eye distance, the mouth centre (mean of points
    48-67) at the centre of a crop of :data:`EXTENT` eye distances.
    """
    lm = np.asarray(lm68, dtype=np.float64)
    if lm.shape != (68, 2):
        raise InvalidArgumentError(f"lm68.shape={lm.shape} must be (68, 2)")
    d = lm[42:48].mean(0) - lm[36:42].mean(0)
    iod = max(float(np.hypot(*d)), 1e-6)
    s = px_per_iod / iod
    c, si = d[0] / iod * s, d[1] / iod * s
    A = np.array([[c, si], [-si, c]])
    w, h = crop_size(px_per_iod)
    t = np.array([w / 2, h / 2]) - A @ lm[48:68].mean(0)
    return np.column_stack([A, t])


def crop_size(px_per_iod: float = PX_PER_IOD) -> tuple[int, int]:
    """(width, height) of a bank crop in pixels."""
    return int(round(EXTENT[0] * px_per_iod)), int(round(EXTENT[1] * px_per_iod))


def lip_shape(lm68: np.ndarray) -> np.ndarray:
    """The inner-lip shape compared between target and bank: points 60-67, eyes level, in
    eye distances about the mouth centre, flattened to shape (16,)."""
    M = canonical_matrix(lm68, px_per_iod=1.0)
    p = np.asarray(lm68, np.float64)[60:68] @ M[:, :2].T + M[:, 2]
    return (p - np.array(crop_size(1.0)) / 2).reshape(-1)


def bank_frames(lms: np.ndarray, *, n: int = 100, valid=None, rotation=None,
                min_gap: float = 0.04, max_turn: float = 0.2) -> np.ndarray:  # fmt: skip
    """Indices of up to ``n`` frames worth keeping in a bank, from a clip's 68 points.

    Candidates: ``valid`` frames (T,) whose head is within ``max_turn`` rad of frontal
    (``rotation`` (T, 3) yaw, pitch, roll in radians; None: not checked) and whose inner lips
    (62-66) are at least ``min_gap`` eye distances apart. Of those, ``n`` by farthest-point
    sampling of :func:`lip_shape`, starting from the widest opening (the bank covers the
    shapes rather than the common ones many times over).

    Parameters
    ----------
    lms : ndarray, shape (T, 68, 2)

    Returns
    -------
    ndarray, shape (<= n,), int
    """
    lms = np.asarray(lms, np.float64)
    if lms.ndim != 3 or lms.shape[1:] != (68, 2):
        raise InvalidArgumentError(f"lms.shape={lms.shape} must be (T, 68, 2)")
    iod = np.linalg.norm(lms[:, 36:42].mean(1) - lms[:, 42:48].mean(1), axis=1)
    gap = np.linalg.norm(lms[:, 62] - lms[:, 66], axis=1) / np.maximum(iod, 1e-6)
    keep = gap >= min_gap
    if valid is not None:
        keep &= np.asarray(valid, bool)
    if rotation is not None:
        keep &= np.abs(np.asarray(rotation)[:, :2]).max(1) < max_turn
    cand = np.flatnonzero(keep)
    if len(cand) == 0 or n < 1:
        return cand[:0]
    shapes = np.stack([lip_shape(lms[t]) for t in cand])
    chosen = [int(np.argmax(gap[cand]))]
    d = ((shapes - shapes[chosen[0]]) ** 2).sum(1)
    for _ in range(min(n, len(cand)) - 1):
        i = int(np.argmax(d))
        chosen.append(i)
        d = np.minimum(d, ((shapes - shapes[i]) ** 2).sum(1))
    return cand[np.array(chosen)]


def _fan(n: int) -> np.ndarray:
    """Triangles (n, 3) of a fan about point ``n`` over the polygon 0..n-1."""
    i = np.arange(n)
    return np.stack([np.full(n, n), i, (i + 1) % n], axis=1)


@dataclass
class MouthBank:
    """Real mouth crops with their lip points.

    Attributes
    ----------
    images : ndarray, shape (N, H, W, 3), uint8
        RGB crops (:func:`canonical_matrix`; H, W = :func:`crop_size`).
    points : ndarray, shape (N, 20, 2), float32
        Lip points 48-67 in crop pixels.
    donor : ndarray, shape (N,), int
        Index into ``donors`` of each crop.
    donors : list of str
        The people (as :func:`talkinghead.corpora.people.recording_person` names them).
    lip : ndarray, shape (N, 3), float32
        Each crop's median lip colour (RGB): the crop is scaled by the photo's lip colour /
        its own (the clips of one person differ in colour grading).
    px_per_iod : float
    sources : list of str
        Where the crops came from (recording ids), for attribution.
    """

    images: np.ndarray
    points: np.ndarray
    donor: np.ndarray
    donors: list[str]
    lip: np.ndarray
    px_per_iod: float = PX_PER_IOD
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.ndim != 4 or self.images.shape[-1] != 3 or self.images.dtype != np.uint8:
            raise InvalidArgumentError(
                f"images.shape={self.images.shape} must be (N, H, W, 3) uint8"
            )
        if self.points.shape != (n, 20, 2):
            raise InvalidArgumentError(f"points.shape={self.points.shape} must be ({n}, 20, 2)")
        if self.donor.shape != (n,) or n == 0:
            raise InvalidArgumentError(f"donor.shape={self.donor.shape} must be ({n},), n > 0")
        if self.lip.shape != (n, 3):
            raise InvalidArgumentError(f"lip.shape={self.lip.shape} must be ({n}, 3)")
        if self.donor.min() < 0 or self.donor.max() >= len(self.donors):
            raise InvalidArgumentError(f"donor must index donors (0..{len(self.donors) - 1})")
        #: inner-lip shapes (N, 16) in eye distances about the crop centre
        w, h = self.images.shape[2], self.images.shape[1]
        inner = (self.points[:, 12:20].astype(np.float64) - [w / 2, h / 2]) / self.px_per_iod
        self.shapes = inner.reshape(n, -1)

    @classmethod
    def from_crops(cls, images, lms, persons, *, sources=None, px_per_iod=PX_PER_IOD):
        """A bank from frames: ``images`` a list of (H, W, 3) uint8 frames, ``lms`` their
        (68, 2) points, ``persons`` a name per frame."""
        import cv2

        from .mouth import lip_colour

        w, h = crop_size(px_per_iod)
        crops, pts = [], []
        names = sorted(set(persons))
        for img, lm in zip(images, lms, strict=True):
            M = canonical_matrix(lm, px_per_iod=px_per_iod)
            crops.append(cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_AREA
                                        if M[0, 0] < 1 else cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REFLECT))  # fmt: skip
            p = np.asarray(lm, np.float64)[48:68] @ M[:, :2].T + M[:, 2]
            pts.append(p)
        crops, pts = np.stack(crops), np.asarray(pts, np.float32)
        donor = np.array([names.index(p) for p in persons])
        full = np.zeros((len(crops), 68, 2))
        full[:, 48:68] = pts
        lip = np.array([lip_colour(c, f) for c, f in zip(crops, full, strict=True)], np.float32)
        return cls(crops, pts, donor, names, lip, float(px_per_iod), list(sources or []))

    def without(self, person: str) -> MouthBank:
        """The bank without ``person``'s crops (the same bank if it has none), e.g. to score
        a person of the bank's own side on the others' mouths."""
        if person not in self.donors:
            return self
        k = self.donors.index(person)
        keep = self.donor != k
        names = [n for n in self.donors if n != person]
        donor = np.array([names.index(self.donors[d]) for d in self.donor[keep]])
        return MouthBank(self.images[keep], self.points[keep], donor, names, self.lip[keep],
                         self.px_per_iod, self.sources)  # fmt: skip

    # -- storage: a folder with config.json + crops.npz (the crops JPEG-encoded) ---------
    def save(self, folder, *, quality: int = 95) -> Path:
        """Write the bank to ``folder`` (``config.json`` + ``crops.npz``), atomically."""
        import cv2

        from .._util.atomic import save_npz_atomic, write_text_atomic

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        bufs = [cv2.imencode(".jpg", im[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
                for im in self.images]  # fmt: skip
        offsets = np.cumsum([0] + [len(b) for b in bufs]).astype(np.int64)
        save_npz_atomic(folder / "crops.npz", jpeg=np.concatenate(bufs).reshape(-1),
                        offsets=offsets, points=self.points, donor=self.donor.astype(np.int16),
                        lip=self.lip)  # fmt: skip
        cfg = {"px_per_iod": self.px_per_iod, "donors": self.donors, "sources": self.sources,
               "n_crops": len(self.images),
               "crop_size": list(self.images.shape[2:0:-1])}  # fmt: skip
        write_text_atomic(folder / "config.json", json.dumps(cfg, indent=1) + "\n")
        return folder

    @classmethod
    def from_pretrained(cls, folder=None) -> MouthBank:
        """Load a bank folder (default :data:`MOUTH_BANK_DIR`)."""
        import cv2

        folder = Path(MOUTH_BANK_DIR if folder is None else folder)
        if not (folder / "config.json").is_file() or not (folder / "crops.npz").is_file():
            raise InvalidArgumentError(
                f"folder={str(folder)!r} must hold a mouth bank (config.json + crops.npz)"
            )
        cfg = json.loads((folder / "config.json").read_text())
        with np.load(folder / "crops.npz") as z:
            jpeg, off = z["jpeg"], z["offsets"]
            images = np.stack([cv2.imdecode(jpeg[a:b], cv2.IMREAD_COLOR)[..., ::-1]
                               for a, b in zip(off[:-1], off[1:], strict=True)])  # fmt: skip
            return cls(np.ascontiguousarray(images), z["points"].astype(np.float32),
                       z["donor"].astype(np.int64), list(cfg["donors"]),
                       z["lip"].astype(np.float32), float(cfg["px_per_iod"]),
                       list(cfg.get("sources", [])))  # fmt: skip


@functools.lru_cache(maxsize=2)
def _load_bank(folder: str) -> MouthBank:
    return MouthBank.from_pretrained(folder)


def load_mouth_bank(bank=None) -> MouthBank:
    """``bank`` itself if a :class:`MouthBank`, else the bank in folder ``bank`` (None: the
    shipped :data:`MOUTH_BANK_DIR`), loaded once per process."""
    if isinstance(bank, MouthBank):
        return bank
    if bank is not None and not isinstance(bank, (str, Path)):
        raise InvalidArgumentError(f"bank={type(bank).__name__} must be a MouthBank or a folder")
    return _load_bank(str(Path(MOUTH_BANK_DIR if bank is None else bank).resolve()))


class ExemplarMouth:
    """Paints one photo's mouth interior from a :class:`MouthBank` (module docstring).

    Parameters
    ----------
    bank : MouthBank
    photo_lip : ndarray, shape (3,)
        The photo's lip colour (RGB; :class:`~talkinghead.render.mouth.MouthPalette`).
    grey : bool
        Paint in grey (a grey-scale photo).
    switch_cost : float
        Added to the shape distance (eye distances, squared, summed over the 16 numbers of
        :func:`lip_shape`) of any frame but the previous choice.
    donor : int or None
        The donor; None: the one whose lip chromaticity is nearest ``photo_lip``.
    contrast : float
        The interior's deviation from the photo's lip colour is multiplied by it (the bank's
        low-resolution video has flatter teeth than sharper photos).
    """

    def __init__(self, bank: MouthBank, photo_lip, *, grey: bool = False,
                 switch_cost: float = 0.004, donor: int | None = None,
                 contrast: float = 1.35) -> None:  # fmt: skip
        self.bank = bank
        photo_lip = np.asarray(photo_lip, np.float64)
        if donor is None:
            chroma = bank.lip / np.maximum(bank.lip.sum(1, keepdims=True), 1e-6)
            want = photo_lip / max(photo_lip.sum(), 1e-6)
            med = [np.median(chroma[bank.donor == k], 0) for k in range(len(bank.donors))]
            donor = int(np.argmin([((m - want) ** 2).sum() for m in med]))
        if not 0 <= donor < len(bank.donors):
            raise InvalidArgumentError(f"donor={donor} must be in [0, {len(bank.donors)})")
        self.donor = donor
        self.index = np.flatnonzero(bank.donor == donor)
        #: (N, 3) per-crop colour gains: the photo's lip colour / the crop's
        self.gain = (photo_lip / np.maximum(bank.lip, 1.0)).astype(np.float32)
        self.grey = grey
        self.switch_cost = float(switch_cost)
        self.contrast = float(contrast)
        self.lip = photo_lip.astype(np.float32)
        self.previous: int | None = None
        self.tri = _fan(8)

    def choose(self, lm68: np.ndarray) -> int:
        """Index into the bank of the crop used for target points ``lm68`` (68, 2)."""
        d = ((self.bank.shapes[self.index] - lip_shape(lm68)) ** 2).sum(1)
        if self.previous is not None:
            d = d + self.switch_cost * (self.index != self.previous)
        self.previous = int(self.index[np.argmin(d)])
        return self.previous

    def paint(self, out: np.ndarray, lm: np.ndarray, *, iod: float, photo_gap: float) -> None:
        """Paint the interior into ``out`` (H, W, 3 uint8) in place at the target points
        ``lm`` (68, 2, pixels of ``out``); ``iod`` and ``photo_gap`` as for
        :func:`~talkinghead.render.mouth.paint_mouth`."""
        import cv2

        from ..face.warp import piecewise_affine_maps
        from .mouth import _alpha, _blend, _prepare

        prep = _prepare(out, lm, iod, photo_gap)
        if prep is None:
            return
        _, strength, inner, (x0, y0, x1, y1) = prep
        i = self.choose(lm)
        src = self.bank.points[i, 12:20].astype(np.float64)
        src = np.concatenate([src, src.mean(0, keepdims=True)])
        dst = np.concatenate([inner, inner.mean(0, keepdims=True)])
        mx, my, _, _ = piecewise_affine_maps(src, dst, self.tri, shape=out.shape[:2],
                                             box=(x0, y0, x1, y1))  # fmt: skip
        # outside the fan the maps are the identity: clamped into the crop (alpha is 0 there)
        col = cv2.remap(self.bank.images[i], mx, my, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32)  # fmt: skip
        col = col * self.gain[i]
        if self.contrast != 1.0:
            col = self.lip + self.contrast * (col - self.lip)
        col = np.clip(col, 0, 255)
        alpha = _alpha((y1 - y0, x1 - x0), inner, np.array([x0, y0], np.float64), iod, strength)
        _blend(out, (x0, y0, x1, y1), col, alpha, self.grey)
