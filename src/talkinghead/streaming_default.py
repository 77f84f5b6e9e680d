"""The learned default model on a live stream: :class:`LearnedAnimator` (the whole face).

:class:`LearnedAnimator` streams :class:`~talkinghead.models.causal_default.CausalDefaultModel`
(the causal counterpart of the offline default model, look-ahead 0-200 ms in 20 ms steps)
and gives every frame what the offline ``animate()`` gives: 68 landmarks with brows and
eyelids drawn, all 52 ARKit blendshapes, the head rotation, brow and blink values, from the
same generators run causally (:class:`~talkinghead.models.expression.CausalUpperFace`).

Per video frame ``t`` (time ``t / fps``):

- mouth z-score: the chosen head's 50 Hz rows interpolated to ``t / fps``
  (:func:`~talkinghead.models.causal_default.interp_to_frames`), mapped by the offline
  model's calibration;
- speech gate: the RMS of ``[(t - 0.5) / fps, (t + 0.5) / fps)`` in dB,
  :func:`~talkinghead.models.causal_default.causal_gate`;
- articulation, landmarks and blendshapes as offline
  (:func:`~talkinghead.models.default.zscore_to_articulation`,
  :func:`~talkinghead.models.phonetic.articulation_to_landmarks`,
  :func:`~talkinghead.models.blendshape_bridge.articulation_to_blendshapes` + blinks and
  brows as :func:`~talkinghead.models.blendshape_bridge.animation_to_blendshapes`);
- upper face: :class:`~talkinghead.models.expression.CausalUpperFace` (seeded).

:meth:`LearnedAnimator.offline` computes the same on a whole signal; the stream gives
the same frames for any chunking (``tests/serve/test_streaming.py``).
"""

from __future__ import annotations

import math

import numpy as np

from .audio.features import n_frames_for
from .errors import check_positive
from .streaming import MODEL_SR, FrameAnimator, OfflineResult, StreamFrame, _check_lookahead

__all__ = ["LearnedAnimator"]


def _rms_db(x: np.ndarray, starts: np.ndarray, ends: np.ndarray, x0: int = 0) -> np.ndarray:
    """dB of the RMS of ``x[s:e]`` (absolute indices, ``x`` starting at ``x0``; zeros outside)."""
    out = np.empty(len(starts))
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        a, b = max(int(s) - x0, 0), max(int(e) - x0, 0)
        seg = x[a:b]
        ms = float(np.dot(seg, seg)) / max(int(e) - int(s), 1)
        out[i] = 10.0 * np.log10(max(ms, 1e-20))
    return out


class LearnedAnimator(FrameAnimator):
    """The causal default model, streamed, with the whole face.

    Parameters
    ----------
    model : CausalDefaultModel
        Shared read-only between animators.
    fps : float
    lookahead_ms : float
        0..200; the model's head with the largest look-ahead not above it is used.
    seed : int
        Seed of the upper-face generators (head drift, brow drift, blink times).
    name : str, optional
    """

    def __init__(self, model, *, fps: float = 25.0, lookahead_ms: float = 40.0, seed: int = 0,
                 name: str = "default-causal") -> None:  # fmt: skip
        from .face.normalize import neutral_face_68

        self.model = model
        self.fps = check_positive("fps", fps)
        self.sr = MODEL_SR
        self.head = model.head_for(_check_lookahead(lookahead_ms))
        self.D = int(model.config.delays[self.head])
        self.lookahead_ms = 20.0 * self.D
        self.seed = int(seed)
        self.name = f"{name}:{self.lookahead_ms:g}ms"
        self.neutral = neutral_face_68()
        self.reset()

    @property
    def latency(self) -> dict:
        """Algorithmic latency in ms from a frame's start ``t / fps`` to its determination:
        the look-ahead plus 22.5 ms (the trunk reads 17.5 ms past a 50 Hz frame centre,
        which lies 5 ms after the video frame time)."""
        return {
            "lookahead_ms": round(self.lookahead_ms, 3),
            "trunk_ms": 22.5,
            "algorithmic_ms": round(self.lookahead_ms + 22.5, 3),
        }

    def reset(self) -> None:
        from .models.expression import CausalUpperFace

        self.st = self.model.new_state()
        self.up = CausalUpperFace(fps=self.fps, sr=self.sr, seed=self.seed)
        self.z: list[float] = []  # z rows from z0 on (row i = teacher frame i)
        self.z0 = 0
        self.n_trunk = 0
        self.x = np.zeros(0, np.float64)  # recent real samples, from x0
        self.x0 = 0
        self.total = 0
        self.g_ref = -np.inf
        self.g_hist: list[float] = []
        self.n_out = 0

    # ------------------------------------------------------------------ per-frame maths
    def _edges(self, t):
        t = np.asarray(t, np.float64)
        return (np.round((t - 0.5) * self.sr / self.fps).astype(np.int64),
                np.round((t + 0.5) * self.sr / self.fps).astype(np.int64))  # fmt: skip

    def _span(self, t):
        """Energy span of frame t (the previous frame's): [edge(t-1), edge(t))."""
        t = np.asarray(t, np.float64)
        return (np.round((t - 1) * self.sr / self.fps).astype(np.int64),
                np.round(t * self.sr / self.fps).astype(np.int64))  # fmt: skip

    def _face(self, zt: np.ndarray, gate: np.ndarray, up) -> dict:
        from .face.arkit import ARKIT_INDEX
        from .models.blendshape_bridge import articulation_to_blendshapes
        from .models.default import zscore_to_articulation
        from .models.expression import apply_upper_face_68
        from .models.phonetic import articulation_to_landmarks

        cal = self.model.calibration
        zc = zt if cal is None else np.interp(zt, cal[0], cal[1])
        c = self.model.config
        art = zscore_to_articulation(zc, gate, centre=c.centre, spread=c.spread)
        n = len(zt)
        lm = articulation_to_landmarks(art, neutral=self.neutral).reshape(n, 68, 2)
        from .streaming import _mouth_open

        mo = _mouth_open(lm)
        lm = apply_upper_face_68(lm, brow=up.brow, blink=up.blink)
        w = articulation_to_blendshapes(art)
        b = np.clip(up.blink.astype(np.float64), 0, 1)
        br = np.clip(up.brow.astype(np.float64), 0, 1)
        for side in ("Left", "Right"):
            j = ARKIT_INDEX[f"eyeBlink{side}"]
            w[:, j] = np.maximum(w[:, j], b)
            w[:, ARKIT_INDEX[f"browOuterUp{side}"]] = 0.6 * br
        w[:, ARKIT_INDEX["browInnerUp"]] = br
        return {"landmarks": lm.astype(np.float32), "mouth_open": mo, "blendshapes": w,
                "head_pose": up.rotation, "brow": up.brow, "blink": up.blink,
                "articulation": art}  # fmt: skip

    # ------------------------------------------------------------------ offline
    def offline(self, y: np.ndarray) -> OfflineResult:
        """Whole-signal reference (``y``: float samples at 16 kHz); fresh state, same seed."""
        from .models.causal_default import causal_gate, interp_to_frames
        from .models.expression import CausalUpperFace

        y = np.asarray(y, np.float64)
        n = n_frames_for(len(y) / self.sr, self.fps)
        t = np.arange(n)
        z = self.model.zscore_offline(y, self.head)
        zt = interp_to_frames(z, t, self.fps) if n else np.zeros(0)
        s, e = self._edges(t)
        db = _rms_db(y, s, e, 0) if n else np.zeros(0)
        gate = causal_gate(db, threshold_db=self.model.config.threshold_db,
                           ramp_frames=self.model.config.ramp_frames)  # fmt: skip
        up = CausalUpperFace(fps=self.fps, sr=self.sr, seed=self.seed).offline(y, n)
        f = self._face(zt, gate, up)
        return OfflineResult(
            f["landmarks"], f["mouth_open"], blendshapes=f["blendshapes"],
            head_pose=f["head_pose"], brow=f["brow"], blink=f["blink"],
        )  # fmt: skip

    # ------------------------------------------------------------------ streaming
    def _zrow(self, t: int) -> int:
        """The upper z row frame ``t`` interpolates from (``interp_index``'s ``lo + 1``)."""
        return max(int(math.floor((t / self.fps - 0.005) * 50.0)), -1) + 1

    def _need(self, t: int) -> int:
        """Samples frame ``t`` needs (the largest of its z row, gate window, energy span)."""
        from .models.causal_default import MEL_HOP, MEL_WIN

        s = self._zrow(t) + self.D  # trunk frame
        mel_end = MEL_HOP * (2 * s + 1) + MEL_WIN // 2
        gate_end = round((t + 0.5) * self.sr / self.fps)
        span_end = round(t * self.sr / self.fps)
        return max(mel_end, gate_end, span_end)

    def _emit(self, n_final: int | None) -> list[StreamFrame]:
        from .models.causal_default import interp_index

        total = self.total
        n_all = n_frames_for(total / self.sr, self.fps) if n_final is None else n_final
        stop = self.n_out
        rows = self.z0 + len(self.z)
        needs = []
        while stop < n_all:
            if n_final is None:
                need = self._need(stop)
                if need > total or self._zrow(stop) >= rows:
                    break
                needs.append(need)
            stop += 1
        ts = np.arange(self.n_out, stop)
        if len(ts) == 0:
            return []
        lo, w = interp_index(ts, self.fps)
        zz = np.asarray(self.z, np.float64)
        a = zz[np.clip(lo - self.z0, 0, len(zz) - 1)]
        b = zz[np.clip(lo + 1 - self.z0, 0, len(zz) - 1)]
        zt = (1.0 - w) * a + w * b
        # gate (the recursion of causal_gate)
        s, e = self._edges(ts)
        db = _rms_db(self.x, s, e, self.x0)
        c = self.model.config
        r = max(1, int(c.ramp_frames))
        gate = np.empty(len(ts))
        for i, v in enumerate(db):
            self.g_ref = max(self.g_ref, float(v))
            self.g_hist = (self.g_hist + [1.0 if v >= self.g_ref + c.threshold_db else 0.0])[-r:]
            gate[i] = min(max(2.0 * (sum(self.g_hist) / r), 0.0), 1.0)
        # upper face energies: RMS of [edge(t-1), edge(t)) clipped to the signal
        s2, e2 = self._span(ts)
        s2, e2 = np.minimum(np.maximum(s2, 0), total), np.minimum(e2, total)
        en = np.zeros(len(ts))
        for i, (p, q) in enumerate(zip(s2, e2, strict=True)):
            if ts[i] == 0:
                continue
            seg = self.x[p - self.x0 : q - self.x0]
            en[i] = np.sqrt(float(np.dot(seg, seg)) / max(int(q - p), 1))
        up = self.up.step(en.astype(np.float32))
        f = self._face(zt, gate, up)
        from .face.arkit import ARKIT_NAMES

        frames = []
        for i, t in enumerate(ts):
            frames.append(
                StreamFrame(
                    index=int(t),
                    time=t / self.fps,
                    landmarks=f["landmarks"][i],
                    mouth_open=float(f["mouth_open"][i]),
                    ready_sample=int(needs[i]) if n_final is None else int(total),
                    blendshapes=dict(zip(ARKIT_NAMES, f["blendshapes"][i].tolist(), strict=True)),
                    head_pose=f["head_pose"][i],
                    brow=float(f["brow"][i]),
                    blink=float(f["blink"][i]),
                )
            )
        self.n_out = stop
        # forget what the next frames no longer need
        lo_next, _ = interp_index(stop, self.fps)
        keep_from = max(0, int(lo_next))
        if keep_from > self.z0:
            del self.z[: keep_from - self.z0]
            self.z0 = keep_from
        x_from = min(int(self._edges(stop)[0]), int(self._span(stop)[0]))
        drop = max(0, min(x_from - self.x0, len(self.x)))
        if drop:
            self.x = self.x[drop:]
            self.x0 += drop
        return frames

    def _add_heads(self, h: np.ndarray) -> None:
        if len(h) == 0:
            return
        first = self.n_trunk
        self.n_trunk += len(h)
        col = h[:, self.head]
        skip = max(0, self.D - first)  # trunk frames < D estimate no frame
        self.z.extend(col[skip:].astype(np.float64).tolist())

    def push(self, y: np.ndarray) -> list[StreamFrame]:
        """Add 16 kHz float samples; return the frames now determined."""
        y = np.asarray(y, np.float64).reshape(-1)
        if len(y):
            self.x = np.concatenate([self.x, y])
            self.total += len(y)
        self._add_heads(self.model.push(self.st, y))
        return self._emit(None)

    def finish(self) -> list[StreamFrame]:
        """End of stream: the model gets the zero padding of the offline pass."""
        n = n_frames_for(self.total / self.sr, self.fps)
        pad = np.zeros(self.model.pad_samples(self.head))
        self._add_heads(self.model.push(self.st, pad, end=True))
        return self._emit(n)
