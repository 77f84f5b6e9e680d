"""Sakurai et al. 2018: 40-d MFCC/energy/F0 features -> BLSTM networks -> face code.

- Inputs: :func:`talkinghead.audio.features.sakurai2018` (12 MFCC + energy, deltas,
  delta-deltas, F0; 40 per frame).
- Targets: the face code. ``target="aam"`` (default, as the paper): the AAM code,
  8 shape + 8 appearance PCA parameters (:class:`talkinghead.face.aam.AAM`) built at
  fit time from the training clips' frames (decoded at the tracking resolution, every
  ``aam_frame_step``-th valid frame, at most ``aam_max_frames``); the AAM is saved as
  ``aam.npz`` next to the checkpoint (:meth:`FaceCodeMixin.save_files`) and
  :meth:`FaceCodeMixin.decode_frames` renders predicted codes to face images. The
  share of the shape / appearance variance the kept components explain (the paper:
  98.0 % / 79.9 %) is in the checkpoint's ``recipe_state["aam_variance_ratio"]``.
  ``target="shape"``: the shape part only: the 68 landmarks, similarity-aligned
  (Procrustes) onto the training mean shape, projected on the PCA components that keep
  98 % of the variance (the paper's shape variance). The PCA is saved with the checkpoint
  (``target.safetensors``), so predictions decode to aligned landmarks; checkpoints
  without a ``target`` in their recipe state are shape-code models.
- Topologies (three layers, equal units, ~600k parameters): ``FBF`` (312), ``BFF``
  (418), ``BBF`` (262); B = BLSTM (units = both directions), F = feed-forward with ReLU
  except the last (the linear output layer). Dropout 0.5 on the first two layers.
- Optimiser: RMSprop (gamma 0.99, eps 1e-8). The paper prints lr 0.1 for this method
  (0.001 for its baseline); with PyTorch's RMSprop 0.1 diverges (the validation loss
  goes to ~1e3 on codes of unit scale), so the default is 0.001; pass ``lr=0.1`` (CLI
  ``--lr 0.1``) for the printed value. Loss: MSE.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidArgumentError, MediaError
from ..models.sequence import TargetTransform
from ..training.data import ClipData
from .base import Recipe
from .shape import align_similarity, fill_invalid, fit_pca_transform, mean_shape

__all__ = [
    "Sakurai2018",
    "FaceCodeMixin",
    "TARGETS",
    "AAM_FILE",
    "clip_frames",
    "load_aam_model",
]

#: Face-code targets of the recipes built on :class:`FaceCodeMixin`.
TARGETS = ("shape", "aam")
#: File name of the recipe's AAM next to a checkpoint (``target="aam"``).
AAM_FILE = "aam.npz"


@lru_cache(maxsize=8)
def _corpus_sources(corpus_dir: str) -> tuple[dict, int | None]:
    """``({recording id: video path}, tracking size)`` of a prepared corpus folder."""
    from ..corpora.manifest import read_recordings

    videos = {r.id: r.video for r in read_recordings(corpus_dir)}
    size = None
    qc = Path(corpus_dir) / "qc_report.json"
    if qc.is_file():
        try:
            size = (json.loads(qc.read_text(encoding="utf-8")).get("options") or {}).get("size")
        except (json.JSONDecodeError, AttributeError):
            size = None
    return videos, (int(size) if size else None)


def clip_frames(clip: ClipData) -> np.ndarray:
    """The RGB frames of a prepared clip at the resolution its landmarks are in.

    The video comes from the corpus' ``recordings.jsonl`` and the tracking size
    (``talkinghead prepare --size``) from its ``qc_report.json`` (absent: full size).

    Returns
    -------
    np.ndarray, uint8, shape (T, H, W, 3), ``T <= clip.n_frames`` (a short decode
    gives fewer frames).
    """
    from ..video.io import iter_frames

    corpus_dir = Path(clip.path).parent.parent
    videos, size = _corpus_sources(str(corpus_dir))
    video = videos.get(clip.recording)
    if not video:
        raise MediaError(
            f"path='{corpus_dir / 'recordings.jsonl'}' must name the video of recording "
            f"{clip.recording!r}"
        )
    out = []
    stop = clip.start_frame + clip.n_frames
    for f in iter_frames(video, size=size):
        if f.index >= stop:
            break
        if f.index >= clip.start_frame:
            out.append(f.image)
    if not out:
        raise MediaError(f"path='{video}' gave no frame in [{clip.start_frame}, {stop})")
    return np.stack(out)


class FaceCodeMixin:
    """Targets = landmarks aligned onto the training mean shape; PCA in the transform.

    ``points`` selects the landmarks of the code, ``align_on`` the points that define
    the per-frame similarity transform (None: the same points). With ``target="aam"``
    the targets are AAM codes instead (see the module docstring); the AAM models the
    landmarks of ``aam_points`` (None: the full 68-point face; fan2015: the lower face).
    """

    points: tuple | None = None
    align_on: tuple | None = None
    #: Landmarks the AAM models (None: all 68) and the outline of its textured region.
    aam_points: tuple | None = None
    aam_outline: tuple | None = None
    variance = 0.98

    def _init_code(
        self,
        target: str = "shape",
        *,
        aam_variance: float | None = None,
        aam_frame_step: int = 3,
        aam_max_frames: int = 600,
    ) -> None:
        if target not in TARGETS:
            raise InvalidArgumentError(f"target={target!r} must be one of {TARGETS}")
        if aam_variance is not None and not 0 < aam_variance <= 1:
            raise InvalidArgumentError(f"aam_variance={aam_variance!r} must be in (0, 1]")
        if aam_frame_step < 1 or aam_max_frames < 2:
            raise InvalidArgumentError(
                f"aam_frame_step={aam_frame_step!r} must be >= 1 and "
                f"aam_max_frames={aam_max_frames!r} >= 2"
            )
        self.target = target
        self.aam_variance = aam_variance
        self.aam_frame_step = int(aam_frame_step)
        self.aam_max_frames = int(aam_max_frames)
        self.ref: np.ndarray | None = None  # (68, 2) unit-size mean shape
        self.aam = None  # talkinghead.face.aam.AAM when target == "aam"

    def _landmarks(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        valid = clip.valid
        return fill_invalid(clip.array("landmarks68"), valid), valid

    def _raw_landmarks(self, clip: ClipData, n: int) -> np.ndarray:
        """(n, 68, 2) pixel landmarks with NaN rows where no face was tracked."""
        lm = np.asarray(clip.array("landmarks68"), np.float64)[:n].copy()
        lm[~clip.valid[:n]] = np.nan
        return lm

    def fit(self, clips, targets) -> None:
        frames = []
        for c in clips:
            lm, valid = self._landmarks(c)
            frames.append(lm[valid][:: max(1, int(valid.sum()) // 200)])
        frames = np.concatenate(frames)
        self.ref = mean_shape(frames, self.align_on or self.points)
        if self.target == "aam":
            self._fit_aam(clips)

    def _fit_aam(self, clips) -> None:
        from ..face.aam import AAM

        per_clip = max(1, self.aam_max_frames // max(1, len(clips)))
        imgs, lms = [], []
        for c in clips:
            frames = clip_frames(c)
            lm = self._raw_landmarks(c, len(frames))
            idx = np.flatnonzero(np.isfinite(lm).all(axis=(1, 2)))[:: self.aam_frame_step]
            idx = idx[np.linspace(0, len(idx) - 1, min(len(idx), per_clip)).astype(int)]
            imgs += [frames[i] for i in np.unique(idx)]
            lms.append(lm[np.unique(idx)])
            c.clear()
        if len(imgs) < 2:
            raise InvalidArgumentError(
                f"the training clips gave {len(imgs)} frames with a face; the AAM needs >= 2"
            )
        kw = (
            dict(variance=self.aam_variance, appearance_variance=self.aam_variance)
            if self.aam_variance is not None
            else dict(n_shape=8, n_appearance=8)
        )
        if self.aam_points is not None:
            kw.update(points=self.aam_points, outline=self.aam_outline)
        self.aam = AAM.fit(imgs, np.concatenate(lms), **kw)

    def state(self) -> dict:
        st = {"ref": None if self.ref is None else self.ref.tolist()}
        if self.target != "shape":
            st["target"] = self.target
            st["aam_file"] = AAM_FILE
            if self.aam is not None:
                st["aam_variance_ratio"] = self.aam_variance_ratio()
        return st

    def aam_variance_ratio(self) -> dict:
        """``{"shape", "appearance"}``: share of the training frames' aligned-shape and
        texture variance the AAM's kept components explain (Sakurai et al.: 0.980 and
        0.799 with 8 + 8), plus the component counts ``n_shape`` / ``n_appearance``."""
        if self.aam is None:
            raise InvalidArgumentError("the recipe has no AAM (target='aam' and fit() first)")
        return {
            "shape": round(float(self.aam.shape_variance_ratio), 4),
            "appearance": round(float(self.aam.appearance_variance_ratio), 4),
            "n_shape": int(self.aam.n_shape),
            "n_appearance": int(self.aam.n_appearance),
            "n_points": len(self.aam.point_index),
        }

    def load_state(self, state: dict) -> None:
        r = state.get("ref")
        self.ref = None if r is None else np.asarray(r, dtype=np.float64)
        self.target = state.get("target", "shape")

    def save_files(self, directory: str | os.PathLike) -> None:
        """Write the AAM (``target="aam"``) as ``directory/aam.npz``."""
        if self.target == "aam" and self.aam is not None:
            self.aam.save(Path(directory) / AAM_FILE)

    def load_files(self, directory: str | os.PathLike) -> None:
        """Read the AAM written by :meth:`save_files` (after :meth:`load_state`)."""
        if self.target == "aam":
            from ..face.aam import AAM

            self.aam = AAM.load(Path(directory) / AAM_FILE)

    def targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        if self.ref is None:
            raise RuntimeError("fit() must run before targets()")  # programming error
        if self.target == "aam":
            return self._aam_targets(clip)
        lm, valid = self._landmarks(clip)
        al = align_similarity(lm, self.ref, self.align_on or self.points)
        if self.points is not None:
            al = al[:, list(self.points)]
        return al.reshape(len(al), -1).astype(np.float32), valid

    def _aam_targets(self, clip: ClipData) -> tuple[np.ndarray, np.ndarray]:
        from ..face.aam import aam_code_targets

        if self.aam is None:
            raise RuntimeError("fit() or load_files() must run before targets()")
        frames = clip_frames(clip)
        codes, valid = aam_code_targets(self.aam, frames, self._raw_landmarks(clip, len(frames)))
        n = clip.n_frames
        if len(codes) < n:  # a short decode: the missing frames do not count
            codes = np.concatenate([codes, np.zeros((n - len(codes), codes.shape[1]), np.float32)])
            valid = np.concatenate([valid, np.zeros(n - len(valid), bool)])
        return codes.astype(np.float32), valid

    def fit_target_transform(self, ys, masks):
        rows = np.concatenate([y[m] for y, m in zip(ys, masks, strict=True)])
        if self.target == "aam":  # shape and appearance parts differ in scale by ~1e4
            mu = rows.mean(axis=0)
            sd = rows.std(axis=0)
            return TargetTransform(mean=mu, scale=np.where(sd > 1e-8, sd, 1.0))
        return fit_pca_transform(rows, variance=self.variance)

    def decode_frames(
        self, codes, background_frame: np.ndarray, *, background_landmarks=None
    ) -> np.ndarray:
        """Render AAM codes (``target="aam"``) onto a background frame.

        Parameters
        ----------
        codes : array_like, shape (T, n_code)
            Decoded codes (``model.predict`` output).
        background_frame : np.ndarray, uint8, shape (H, W, 3)
        background_landmarks : np.ndarray, shape (68, 2), optional
            The background's face landmarks (pixels): the face is placed on them.
            Default: the face centred, eye distance a quarter of the frame width.

        Returns
        -------
        np.ndarray, uint8, shape (T, H, W, 3)
        """
        from ..render.aam_video import code_frames

        if self.target != "aam" or self.aam is None:
            raise InvalidArgumentError(
                f"decode_frames needs target='aam' with a loaded AAM (target={self.target!r})"
            )
        return np.stack(
            list(
                code_frames(
                    self.aam, codes, background_frame, background_landmarks=background_landmarks
                )
            )
        )


class Sakurai2018(FaceCodeMixin, Recipe):
    """Speech -> face code with FBF / BFF / BBF networks (see the module docstring)."""

    name = "sakurai2018"
    topologies = {"FBF": ["F312", "B312"], "BFF": ["B418", "F418"], "BBF": ["B262", "B262"]}
    default_topology = "BBF"
    dropout = 0.5
    lr = 1e-3
    batch_size = 16
    epochs = 100
    patience = 10

    def __init__(
        self,
        *,
        delay_ms: float = 0.0,
        lr: float | None = None,
        target: str = "aam",
        aam_variance: float | None = None,
        aam_frame_step: int = 3,
        aam_max_frames: int = 600,
    ) -> None:
        super().__init__(delay_ms=delay_ms, lr=lr)
        self._init_code(
            target,
            aam_variance=aam_variance,
            aam_frame_step=aam_frame_step,
            aam_max_frames=aam_max_frames,
        )

    def inputs(self, clip: ClipData) -> np.ndarray:
        return clip.feature("sakurai2018")

    def optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(params, lr=self.lr, alpha=0.99, eps=1e-8)


def load_aam_model(model_dir: str | os.PathLike):
    """A ``target="aam"`` checkpoint and its recipe (with the AAM loaded).

    Returns
    -------
    model : talkinghead.models.sequence.SequenceModel
        ``model.predict(x)`` gives codes ``(T, n_code)``.
    recipe : Recipe
        ``recipe.inputs(clip)`` builds inputs; ``recipe.decode_frames`` renders.
    """
    from ..models.sequence import SequenceModel
    from . import get_recipe

    model = SequenceModel.from_pretrained(model_dir)
    meta = model.meta
    recipe = get_recipe(meta["recipe"], delay_ms=meta.get("delay_ms", 0.0))
    recipe.load_state(meta.get("recipe_state") or {})
    if getattr(recipe, "target", None) != "aam":
        raise InvalidArgumentError(f"model_dir='{model_dir}' must hold a target='aam' model")
    recipe.load_files(model_dir)
    return model, recipe
