"""The streamed learned models as whole-clip systems for ``talkinghead evaluate``.

``mouth_causal_<L>`` (``L`` = 0, 40, 80, 120, 200 ms of look-ahead) is exactly what the server
streams by default (:meth:`talkinghead.streaming.MouthAnimator.offline`, which the stream
equals, with the checkpoint of ``data/mouth_v2_causal`` the server picks for ``L``; another
folder of ``la<N>/`` checkpoints with :func:`use_family`); ``causal_<L>`` is the model streamed
before it (:class:`~talkinghead.streaming.LearnedAnimator`, ``data/default_causal``, or another
causal default-model checkpoint, e.g. a trunk under trial, with :func:`use_causal`). Both in
the ``module:function`` form the evaluate command and
:func:`talkinghead.evaluate.heldout.evaluate_heldout` accept, e.g.::

    talkinghead evaluate talkinghead.streaming.systems:mouth_causal_80 --protocol mouth_v2 \\
        --prepared /work/prepared/hunt --no-baselines

(``bench/stream_accuracy.py`` scores them all beside the offline models.)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "LOOKAHEADS",
    "causal",
    "causal_0",
    "causal_40",
    "causal_80",
    "causal_120",
    "causal_200",
    "causal_model",
    "family",
    "mouth_causal",
    "mouth_causal_0",
    "mouth_causal_40",
    "mouth_causal_80",
    "mouth_causal_120",
    "mouth_causal_200",
    "use_causal",
    "use_family",
]

#: The look-aheads (ms) of the named systems.
LOOKAHEADS = (0, 40, 80, 120, 200)
_FAMILY = {"dir": None}
_CAUSAL = {"dir": None}


@lru_cache(maxsize=1)
def causal_model():
    """The causal default model of ``causal_*``, loaded once: the shipped one
    (``data/default_causal``) or the folder given to :func:`use_causal`."""
    from ..models.causal_default import CausalDefaultModel

    return CausalDefaultModel.from_pretrained(_CAUSAL["dir"])


def use_causal(directory=None) -> None:
    """Score the causal default-model checkpoint in ``directory`` as ``causal_*`` (None:
    the shipped ``data/default_causal``)."""
    _CAUSAL["dir"] = None if directory is None else str(directory)
    causal_model.cache_clear()


def use_family(directory=None) -> None:
    """Score the ``la<N>/`` checkpoints of ``directory`` as ``mouth_causal_*`` (None: the
    shipped ``data/mouth_v2_causal``)."""
    _FAMILY["dir"] = None if directory is None else str(directory)
    family.cache_clear()


@lru_cache(maxsize=1)
def family():
    """The animator factory of ``mouth_causal_*`` (:func:`~talkinghead.streaming.load_animator`)."""
    from .animators import load_animator

    return load_animator(_FAMILY["dir"])


def _to16k(y, sr):
    import soxr

    y = np.asarray(y, np.float32)
    if int(sr) != 16000:
        y = soxr.resample(y, int(sr), 16000).astype(np.float32)
    return y


def _frames(r, n_frames):
    from .animators import OfflineResult

    n = int(n_frames)
    idx = np.minimum(np.arange(n), max(r.n_frames - 1, 0))  # n_frames_for may differ by one
    return OfflineResult(r.landmarks[idx], r.mouth_open[idx])


def causal(*, y, sr, fps, n_frames, lookahead_ms):
    """The previously streamed model (causal default) on a whole clip (OfflineResult)."""
    from .animators import LearnedAnimator

    an = LearnedAnimator(causal_model(), fps=fps, lookahead_ms=lookahead_ms)
    return _frames(an.offline(_to16k(y, sr)), n_frames)


def mouth_causal(*, y, sr, fps, n_frames, lookahead_ms):
    """The streaming mouth v2 the server picks for ``lookahead_ms``, on a whole clip."""
    an = family()(fps, lookahead_ms)
    return _frames(an.offline(_to16k(y, sr)), n_frames)


def _make(fn, la):
    def f(*, y, sr, fps, n_frames):
        return fn(y=y, sr=sr, fps=fps, n_frames=n_frames, lookahead_ms=la)

    f.__name__ = f"{fn.__name__}_{la}"
    return f


causal_0, causal_40, causal_80, causal_120, causal_200 = (_make(causal, v) for v in LOOKAHEADS)
mouth_causal_0, mouth_causal_40, mouth_causal_80, mouth_causal_120, mouth_causal_200 = (
    _make(mouth_causal, v) for v in LOOKAHEADS
)
