"""Streaming speech -> face: audio chunks of any size in, face frames out as soon as known.

:class:`StreamingAnimator` is the public entry point::

    sa = StreamingAnimator(sample_rate=48000, format="s16", lookahead_ms=40)
    for chunk in microphone():           # bytes or arrays, any length (even 1 sample)
        for frame in sa.push(chunk):     # StreamFrame: index, time, landmarks (68, 2), ...
            show(frame)
    for frame in sa.end():               # the last frames (audio after the end is silence)
        show(frame)

Guarantee: the frames of a stream are exactly those of the offline computation on the
whole signal (:meth:`StreamingAnimator.offline`), whatever the chunking: same count
(``n_frames_for(duration, fps)``, as every offline feature function) and the same values
(up to float rounding). That is possible because every animator here is causal with a
bounded look-ahead:

- Input: float32 in [-1, 1] or int16 PCM at ``sample_rate``; converted to float32 and
  resampled *incrementally* to the animator's rate (16 kHz) with ``soxr.ResampleStream``
  (whose chunked output equals ``soxr.resample`` of the whole signal, bit for bit).
- Features are computed row by row exactly as :mod:`talkinghead.audio.features` does:
  row ``t`` reads the window centred on the frame centre ``(t + 0.5)/fps``; it is
  computed once the samples it needs have arrived *and* ``t < n_frames_for(received)``
  (so that a row is never computed that the offline pass would not compute); samples
  no longer needed are dropped from the ring buffer (memory stays constant).

Animators (:class:`FrameAnimator` subclasses; build one with :func:`load_animator`):

:class:`MouthAnimator`
    The streaming mouth v2 (a causal :class:`~talkinghead.models.mouth.MouthModel` on the
    causal default model's trunk, one checkpoint per look-ahead) with the whole face: six
    mouth DOFs, landmarks with brows and eyelids, all 52 ARKit blendshapes, head rotation,
    brow and blink (the default).
:class:`LearnedAnimator`
    The causal default model (:mod:`talkinghead.models.causal_default`, look-ahead 0-200 ms
    in 20 ms steps) with the whole face (streamed before the mouth v2; by path).
:class:`ModelAnimator`
    A causal :class:`~talkinghead.models.sequence.SequenceModel` checkpoint on
    ``eskimez2018`` features (unidirectional LSTM with ``delay_frames`` look-ahead),
    run step by step with ``forward_chunk``; outputs decoded to 68 eye-pinned landmarks.
    Its look-ahead is the checkpoint's delay (the ``lookahead_ms`` argument is ignored).
:class:`EnergyAnimator`
    Model-free (asked for by name, ``"energy"``): speech-band (300-3400 Hz) energy per
    frame -> a causal automatic gain (decaying peak) -> mouth opening in [0, 1], smoothed over
    ``past_ms`` of past frames and ``lookahead_ms`` of future frames -> the jaw and
    lips of :func:`~talkinghead.face.normalize.neutral_face_68` are deformed by
    :func:`~talkinghead.models.phonetic.articulation_to_landmarks`.

Default (:func:`load_animator`): the shipped streaming mouth v2
(``talkinghead/data/mouth_v2_causal``, ``la<L>/`` per look-ahead, streamed by
:class:`talkinghead.streaming.MouthAnimator`); ``"energy"`` names the model-free animator;
a folder loads a checkpoint. A missing model is an error, never a silent fallback.
:func:`push_batch` pushes many streams at once (the server's batcher).

Latency: each frame carries ``ready_sample``, the number of input samples (at the
animator's rate) needed to determine it. The *algorithmic* latency, from the start of
frame ``t``'s audio (``t/fps``) to the moment it can be computed, is
``half a frame period + half the analysis window + look-ahead``
(:attr:`FrameAnimator.latency`; for :class:`LearnedAnimator` look-ahead + 22.5 ms);
chunking, resampling and compute time add to it.
"""

from .animators import (
    BUILTIN_ANIMATORS,
    MAX_LOOKAHEAD_MS,
    EnergyAnimator,
    EnergyConfig,
    FrameAnimator,
    LearnedAnimator,
    ModelAnimator,
    MouthAnimator,
    OfflineResult,
    StreamFrame,
    load_animator,
)
from .api import StreamingAnimator, push_batch
from .features import EskimezFeatureStream
from .pcm import FORMATS, MODEL_SR, PcmConverter, pcm_to_float

__all__ = [
    "BUILTIN_ANIMATORS",
    "FORMATS",
    "MAX_LOOKAHEAD_MS",
    "MODEL_SR",
    "EnergyAnimator",
    "EnergyConfig",
    "EskimezFeatureStream",
    "FrameAnimator",
    "LearnedAnimator",
    "ModelAnimator",
    "MouthAnimator",
    "OfflineResult",
    "PcmConverter",
    "StreamFrame",
    "StreamingAnimator",
    "load_animator",
    "pcm_to_float",
    "push_batch",
]
