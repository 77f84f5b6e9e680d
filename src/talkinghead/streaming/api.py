"""The public entry point of streaming: :class:`StreamingAnimator` (PCM chunks in, face
frames out)."""

from __future__ import annotations

import os

from ..errors import InvalidArgumentError
from .animators import FrameAnimator, OfflineResult, StreamFrame, load_animator
from .pcm import MODEL_SR, PcmConverter

__all__ = ["StreamingAnimator"]


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
