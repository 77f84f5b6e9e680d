"""Drive any trained recipe checkpoint with new speech and render what it predicts.

``synthesize(model_dir, y=..., sr=...)`` builds the checkpoint's inputs from the audio
the way its recipe does (audio features; Fan 2015 and the Sakurai baseline: phone labels
from forced alignment of a ``transcript``), runs the model and decodes its outputs:

- ``eskimez2018``: 68 landmarks in the authors' normalised space (``kind="landmarks"``);
- ``sakurai2018`` / ``fan2015`` / ``sakurai2018_baseline`` with AAM codes: the codes
  (``kind="aam"``), rendered through the checkpoint's AAM (``aam.npz``);
- the same recipes with shape codes: aligned landmarks (Fan: the predicted lower face
  on the training mean shape's upper face);
- ``pham2017``: head rotation + 52 ARKit weights (``kind="blendshapes"``), rendered on
  the 3-D head.

``render_synthesis(s, path, ...)`` writes the MP4 (sketch, AAM face or 3-D head) with the
speech muxed in; ``talkinghead render MODEL_DIR AUDIO -o out.mp4`` runs both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, InvalidArgumentError

__all__ = ["Synthesis", "synthesize", "render_synthesis", "PHONE_RECIPES"]

#: Recipes whose inputs are phone labels (forced alignment of a transcript).
PHONE_RECIPES = ("fan2015", "sakurai2018_baseline")


@dataclass
class Synthesis:
    """What a checkpoint predicts for one utterance.

    Attributes
    ----------
    kind : {"landmarks", "aam", "blendshapes"}
    fps : float
    landmarks : np.ndarray, shape (T, 68, 2), or None
        Face points (the recipe's normalised space; every kind but ``blendshapes``:
        for AAM codes, the shape part decoded).
    codes : np.ndarray, shape (T, 16), or None
        AAM codes (``kind="aam"``).
    rotation : np.ndarray, shape (T, 3), or None
        Head rotation vectors (``kind="blendshapes"``).
    weights : np.ndarray, shape (T, 52), or None
        ARKit weights in [0, 1] (``kind="blendshapes"``).
    recipe : Recipe
        The checkpoint's recipe with its state (and AAM) loaded.
    meta : dict
        The checkpoint's ``meta``.
    """

    kind: str
    fps: float
    recipe: object
    meta: dict = field(default_factory=dict)
    landmarks: np.ndarray | None = None
    codes: np.ndarray | None = None
    rotation: np.ndarray | None = None
    weights: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        for a in (self.landmarks, self.codes, self.weights):
            if a is not None:
                return int(len(a))
        return 0


def _inputs(recipe, meta: dict, *, y, sr, fps, n_frames, transcript, emotion) -> np.ndarray:
    from ..audio.features import compute_features

    name = meta["recipe"]
    if name in PHONE_RECIPES:
        if not transcript:
            raise InvalidArgumentError(
                f"transcript={transcript!r} must be given: recipe {name!r} reads phone labels "
                "from a forced alignment of what is said"
            )
        from ..audio.phones import align
        from .fan2015 import contextual_labels, emotion_one_hot, triphone_labels

        a = align(y=y, sr=sr, transcript=transcript)
        if name == "fan2015":
            return contextual_labels(
                a.phones,
                n_frames=n_frames,
                fps=fps,
                words=a.words if getattr(recipe, "word_position", True) else None,
            )
        tri = triphone_labels(a.phones, n_frames=n_frames, fps=fps)
        emo = emotion or recipe.missing_emotion
        return np.concatenate([tri, emotion_one_hot(emo, n_frames)], axis=1)
    x = compute_features(name, y=y, sr=sr, fps=fps, n_frames=n_frames)
    if name == "eskimez2018":
        from .eskimez2018 import add_context

        x = add_context(x, recipe.context_frames)
    return x


def synthesize(
    model_dir: str | os.PathLike,
    *,
    y: np.ndarray,
    sr: int,
    transcript: str | None = None,
    emotion: str | None = None,
) -> Synthesis:
    """Run a trained recipe checkpoint on speech ``y`` (see the module docstring).

    Parameters
    ----------
    model_dir : path
        A folder written by ``talkinghead train`` (config.json + model.safetensors).
    y : np.ndarray, shape (n,)
        Speech samples at ``sr``.
    sr : int
        Sample rate of ``y``; should be the rate the training corpus was analysed at
        (``meta["sr"]``, 16 kHz by default).
    transcript : str, optional
        What is said (needed by :data:`PHONE_RECIPES`).
    emotion : str, optional
        Emotion label of the Sakurai baseline's input (default: its ``missing_emotion``).

    Raises
    ------
    CheckpointError
        ``model_dir`` is not a recipe checkpoint.
    InvalidArgumentError
        A phone-label recipe without a transcript; audio shorter than one frame.
    """
    from ..models.sequence import SequenceModel
    from . import RECIPES, get_recipe

    model_dir = Path(model_dir)
    model = SequenceModel.from_pretrained(model_dir)
    meta = dict(model.meta or {})
    name = meta.get("recipe")
    if name not in RECIPES:
        raise CheckpointError(
            f"path='{model_dir / 'config.json'}' must name a recipe of {sorted(RECIPES)} in "
            f"meta['recipe'] (found {name!r})"
        )
    fps = float(meta.get("fps") or 25.0)
    recipe = get_recipe(name, delay_ms=float(meta.get("delay_ms", 0.0)))
    recipe.load_state(meta.get("recipe_state") or {})
    recipe.load_files(model_dir)
    y = np.asarray(y, np.float32)
    n_frames = int(round(len(y) / float(sr) * fps))
    if n_frames < 1:
        raise InvalidArgumentError(
            f"audio with {len(y)} samples at sr={sr} must last at least one frame (1/{fps:g} s)"
        )
    x = _inputs(
        recipe, meta, y=y, sr=sr, fps=fps, n_frames=n_frames, transcript=transcript,
        emotion=emotion,
    )  # fmt: skip
    out = np.asarray(model.predict(np.asarray(x, np.float32)), np.float64)
    T = len(out)
    if name == "pham2017":
        # quaternion vector part (w >= 0) -> rotation vector: angle 2 asin |v|, axis v / |v|
        v = out[:, :3]
        n = np.linalg.norm(v, axis=1, keepdims=True)
        rotvec = np.where(n > 1e-12, v / np.maximum(n, 1e-12), 0.0) * (
            2.0 * np.arcsin(np.clip(n, 0.0, 1.0))
        )
        return Synthesis(
            "blendshapes",
            fps,
            recipe,
            meta,
            rotation=rotvec.astype(np.float32),
            weights=np.clip(out[:, 3:], 0.0, 1.0).astype(np.float32),
        )
    if getattr(recipe, "target", "shape") == "aam":
        lm = np.stack([recipe.aam.decode(v)[0] for v in out])
        return Synthesis("aam", fps, recipe, meta, landmarks=lm, codes=out.astype(np.float32))
    if out.shape[1] == 136:
        lm = out.reshape(T, 68, 2)
    else:  # a point subset (fan2015's lower face) on the training mean shape
        points = list(getattr(recipe, "points", None) or [])
        if len(points) * 2 != out.shape[1] or getattr(recipe, "ref", None) is None:
            raise CheckpointError(
                f"path='{model_dir}': {out.shape[1]} outputs are neither 68 points nor the "
                "recipe's point subset"
            )
        lm = np.repeat(np.asarray(recipe.ref, np.float64)[None], T, axis=0)
        lm[:, points] = out.reshape(T, -1, 2)
    return Synthesis("landmarks", fps, recipe, meta, landmarks=lm)


def render_synthesis(
    s: Synthesis,
    path: str | os.PathLike,
    *,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    size: int = 256,
    progress: bool | None = None,
) -> Path:
    """Write ``s`` as an MP4 with ``audio`` muxed in, atomically.

    Landmarks: the sketch (:func:`talkinghead.render.sketch.render_landmarks_video`); AAM
    codes: the AAM's face on a grey ``size`` x ``size`` background; blendshapes: the 3-D
    head (:func:`talkinghead.render.head3d.render_head_video`).
    """
    if s.kind == "landmarks":
        from ..render.sketch import render_landmarks_video

        return Path(
            render_landmarks_video(
                path, s.landmarks, fps=s.fps, audio=audio, sr=sr, size=size, progress=progress
            )
        )
    if s.kind == "aam":
        from ..render.aam_video import render_code_video

        bg = np.full((size, size, 3), 128, np.uint8)
        return Path(
            render_code_video(path, s.recipe.aam, s.codes, bg, fps=s.fps, audio=audio, sr=sr)
        )
    if s.kind == "blendshapes":
        from ..face.head3d import BlendshapeAnimation
        from ..render.head3d import render_head_video

        anim = BlendshapeAnimation(fps=s.fps, weights=s.weights, rotation=s.rotation)
        return Path(render_head_video(path, anim, audio=audio, sr=sr, size=size))
    raise InvalidArgumentError(f"kind={s.kind!r} must be 'landmarks', 'aam' or 'blendshapes'")
