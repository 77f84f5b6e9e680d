"""The public entry point of streaming: :class:`StreamingAnimator` (PCM chunks in, face
frames out)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import InvalidArgumentError
from .animators import (
    FrameAnimator,
    LearnedAnimator,
    MouthAnimator,
    OfflineResult,
    StreamFrame,
    load_animator,
)
from .pcm import MODEL_SR, PcmConverter

__all__ = ["StreamingAnimator", "push_batch"]


class StreamingAnimator:
    """Audio chunks of any size in (PCM at any rate), face frames out as soon as determined.

    Parameters
    ----------
    animator : FrameAnimator, optional
        One per stream; default: ``load_animator(model)(fps, lookahead_ms)``.
    sample_rate : int
        Rate of the pushed audio (resampled incrementally to 16 kHz with soxr).
    format : {"f32", "s16"}
        Format of pushed bytes (arrays are taken by dtype).
    fps, lookahead_ms : float
        For the default animator (a model animator uses its checkpoint's).
    model : path or {"default", "energy"}, optional
        For the default animator: :func:`load_animator`'s ``model_dir`` (None: the
        shipped causal default model).
    """

    def __init__(
        self,
        animator: FrameAnimator | None = None,
        *,
        sample_rate: int = MODEL_SR,
        format: str = "f32",
        fps: float = 25.0,
        lookahead_ms: float = 40.0,
        model: str | os.PathLike | None = None,
    ) -> None:
        if animator is None:
            animator = load_animator(model, fps=fps, lookahead_ms=lookahead_ms)(fps, lookahead_ms)
        self.animator = animator
        self.pcm = PcmConverter(sample_rate, animator.sr, format)
        self.ended = False

    @property
    def fps(self) -> float:
        return float(self.animator.fps)

    @property
    def latency(self) -> dict:
        """The animator's algorithmic latency (see :attr:`FrameAnimator.latency`)."""
        return self.animator.latency

    def push(self, chunk) -> list[StreamFrame]:
        """Add PCM bytes or samples; returns the frames now determined (maybe none)."""
        if self.ended:
            raise InvalidArgumentError("push() after end(): the stream is finished")
        return self.animator.push(self.pcm.push(chunk))

    def end(self) -> list[StreamFrame]:
        """Finish the stream; returns the remaining frames."""
        if self.ended:
            return []
        self.ended = True
        frames = self.animator.push(self.pcm.end())
        return frames + self.animator.finish()

    def offline(self, y) -> OfflineResult:
        """The whole-signal result for ``y`` (same decoding and resampling; no state used)."""
        return self.animator.offline(self.pcm.offline(y))


def push_batch(items) -> list:
    """Push one chunk into each of several streams at once: ``[(StreamingAnimator, chunk)]``
    -> per stream its new frames (a list of :class:`StreamFrame`) or the exception its
    chunk raised (e.g. :class:`~talkinghead.errors.InvalidArgumentError`).

    The frames are those ``sa.push(chunk)`` would return, stream by stream; the learned
    animators' face read-out (articulation, landmarks, blendshapes, upper face on the 68
    points) runs once per model for all the streams' frames together, which is what a server
    with many sessions saves (one call instead of one per session and frame).
    """
    from ..models.expression import UpperFace

    out: list = [None] * len(items)
    mouths: dict = {}  # MouthModel -> [(k, animator, samples)]
    learned = []
    for k, (sa, chunk) in enumerate(items):
        try:
            if sa.ended:
                raise InvalidArgumentError("push() after end(): the stream is finished")
            y = sa.pcm.push(chunk)
            an = sa.animator
            if isinstance(an, MouthAnimator):
                an._ingest(y, model=False)
                mouths.setdefault(id(an.mouth), []).append((k, an, y))
            elif isinstance(an, LearnedAnimator):
                an._ingest(y)
                learned.append((k, an))
            else:
                out[k] = an.push(y)
        except Exception as e:  # noqa: BLE001 - reported per stream
            out[k] = e
    for members in mouths.values():
        MouthAnimator._push_many([an for _, an, _ in members], [y for _, _, y in members])
        learned += [(k, an) for k, an, _ in members]
    groups: dict = {}
    for k, an in sorted(learned, key=lambda m: m[0]):
        p = an._prepare(None)
        if p is None:
            out[k] = []
        else:
            groups.setdefault(an._face_key(), []).append((k, an, p))
    for members in groups.values():
        an0 = members[0][1]
        ps = [p for _, _, p in members]
        up = UpperFace(rotation=np.concatenate([p["up"].rotation for p in ps]),
                       brow=np.concatenate([p["up"].brow for p in ps]),
                       blink=np.concatenate([p["up"].blink for p in ps]))  # fmt: skip
        zt = np.concatenate([p["zt"] for p in ps])
        f = an0._face(zt, np.concatenate([p["gate"] for p in ps]), up)
        i = 0
        for k, an, p in members:
            n = len(p["ts"])
            out[k] = an._finalize(p, {key: v[i : i + n] for key, v in f.items()})
            i += n
    return out
