"""The streamed learned model as whole-clip systems for ``talkinghead evaluate``.

``causal_<L>`` (``L`` = 0, 40, 80, 120, 200 ms of look-ahead) is exactly what the server
streams (:meth:`talkinghead.streaming.LearnedAnimator.offline`, which the stream equals), in
the ``module:function`` form the evaluate command and
:func:`talkinghead.evaluate.heldout.evaluate_heldout` accept, e.g.::

    talkinghead evaluate talkinghead.streaming.systems:causal_80 --protocol mouth_v2 \\
        --prepared /work/prepared/hunt --no-baselines

(``bench/stream_accuracy.py`` scores them all beside the offline models.)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["causal", "causal_0", "causal_40", "causal_80", "causal_120", "causal_200"]


@lru_cache(maxsize=1)
def _model():
    from ..models.causal_default import CausalDefaultModel

    return CausalDefaultModel.from_pretrained()


def causal(*, y, sr, fps, n_frames, lookahead_ms):
    """The streamed learned model on a whole clip, ``n_frames`` frames (OfflineResult)."""
    import soxr

    from .animators import LearnedAnimator, OfflineResult

    y = np.asarray(y, np.float32)
    if int(sr) != 16000:
        y = soxr.resample(y, int(sr), 16000).astype(np.float32)
    r = LearnedAnimator(_model(), fps=fps, lookahead_ms=lookahead_ms).offline(y)
    n = int(n_frames)
    idx = np.minimum(np.arange(n), max(r.n_frames - 1, 0))  # n_frames_for may differ by one
    return OfflineResult(r.landmarks[idx], r.mouth_open[idx])


def _make(la):
    def f(*, y, sr, fps, n_frames):
        return causal(y=y, sr=sr, fps=fps, n_frames=n_frames, lookahead_ms=la)

    f.__name__ = f"causal_{la}"
    return f


causal_0, causal_40, causal_80, causal_120, causal_200 = (_make(v) for v in (0, 40, 80, 120, 200))
