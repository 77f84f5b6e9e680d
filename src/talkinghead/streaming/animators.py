"""The streaming animators: causal, bounded look-ahead, one instance per stream.

:class:`FrameAnimator` is the base; :class:`LearnedAnimator` (the causal default model with
the whole face), :class:`ModelAnimator` (a causal SequenceModel checkpoint) and
:class:`EnergyAnimator` (model-free) implement it; :func:`load_animator` chooses one
(see :mod:`talkinghead.streaming`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.features import n_frames_for
from ..audio.framing import gather_windows
from ..errors import InvalidArgumentError, check_positive
from .features import EskimezFeatureStream
from .pcm import MODEL_SR, FrameGrid, SampleBuffer

__all__ = [
    "BUILTIN_ANIMATORS",
    "MAX_LOOKAHEAD_MS",
    "EnergyAnimator",
    "EnergyConfig",
    "FrameAnimator",
    "LearnedAnimator",
    "ModelAnimator",
    "MouthAnimator",
    "OfflineResult",
    "StreamFrame",
    "check_mouth_streamable",
    "load_animator",
    "pick_lookahead",
]

#: Allowed look-ahead range in milliseconds.
MAX_LOOKAHEAD_MS = 200.0


@dataclass
class StreamFrame:
    """One face frame of a stream.

    Attributes
    ----------
    index : int
        Frame number ``t`` (0-based).
    time : float
        Start time of the frame in the audio, ``t / fps`` seconds.
    landmarks : np.ndarray, float32, shape (68, 2)
        Eye-pinned 68-point face (eye centres at (-0.5, 0) and (0.5, 0), y down).
    mouth_open : float
        :func:`~talkinghead.face.landmarks68.mouth_openness_68` of ``landmarks``.
    ready_sample : int
        Input samples (at the animator's rate) the frame needed; it was determined as
        soon as that many had arrived (or at the end of the stream).
    blendshapes : dict or None
        ARKit-named weights in [0, 1] when the animator provides them.
    head_pose : np.ndarray or None
        Rotation vector (3,) in radians when the animator provides it.
    brow, blink : float or None
        Brow raise and eyelid closure in [0, 1] when the animator provides them.
    """

    index: int
    time: float
    landmarks: np.ndarray
    mouth_open: float
    ready_sample: int
    blendshapes: dict | None = None
    head_pose: np.ndarray | None = None
    brow: float | None = None
    blink: float | None = None

    def to_json(self) -> dict:
        """A JSON-able dict (landmarks rounded to 1e-4)."""
        d = {
            "index": self.index,
            "t": round(self.time, 6),
            "landmarks": np.round(self.landmarks.astype(np.float64), 4).tolist(),
            "mouth_open": round(float(self.mouth_open), 5),
        }
        if self.blendshapes is not None:
            d["blendshapes"] = {k: round(float(v), 4) for k, v in self.blendshapes.items()}
        if self.head_pose is not None:
            d["head_pose"] = np.round(np.asarray(self.head_pose, float), 5).tolist()
        for k in ("brow", "blink"):
            v = getattr(self, k)
            if v is not None:
                d[k] = round(float(v), 4)
        return d


@dataclass
class OfflineResult:
    """Whole-signal output of an animator.

    Attributes
    ----------
    landmarks : np.ndarray, float32, shape (T, 68, 2)
    mouth_open : np.ndarray, float32, shape (T,)
    blendshapes : np.ndarray, float32, shape (T, 52), optional
        ARKit weights in :data:`~talkinghead.face.arkit.ARKIT_NAMES` order.
    head_pose : np.ndarray, float32, shape (T, 3), optional
        Head rotation vectors (radians).
    brow, blink : np.ndarray, float32, shape (T,), optional
    """

    landmarks: np.ndarray
    mouth_open: np.ndarray
    blendshapes: np.ndarray | None = None
    head_pose: np.ndarray | None = None
    brow: np.ndarray | None = None
    blink: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.landmarks.shape[0])


class FrameAnimator:
    """Base class: a causal animator at :data:`MODEL_SR` with a bounded look-ahead.

    Subclasses implement :meth:`push`, :meth:`finish` and :meth:`offline`; every
    instance holds the state of one stream (make one per stream).
    """

    name = "base"
    sr: float = MODEL_SR
    fps: float = 25.0
    lookahead_ms: float = 0.0
    window_ms: float = 40.0

    @property
    def latency(self) -> dict:
        """Algorithmic latency in ms from a frame's audio start to its determination."""
        half_frame = 500.0 / self.fps
        half_win = self.window_ms / 2.0
        return {
            "lookahead_ms": round(self.lookahead_ms, 3),
            "half_window_ms": round(half_win, 3),
            "half_frame_ms": round(half_frame, 3),
            "algorithmic_ms": round(self.lookahead_ms + half_win + half_frame, 3),
        }

    def push(self, y: np.ndarray) -> list[StreamFrame]:
        raise NotImplementedError

    def finish(self) -> list[StreamFrame]:
        raise NotImplementedError

    def offline(self, y: np.ndarray) -> OfflineResult:
        raise NotImplementedError


def _mouth_open(lm: np.ndarray) -> np.ndarray:
    from ..face.landmarks68 import mouth_openness_68

    return mouth_openness_68(lm).astype(np.float32)


@dataclass
class EnergyConfig:
    """Parameters of :class:`EnergyAnimator`.

    Attributes
    ----------
    low_hz, high_hz : float
        Speech band (4th-order Butterworth band-pass, run causally).
    range_db : float
        Levels from ``peak - range_db`` to the peak map to openings 0..1.
    gate : float
        Openings below ``gate`` (of that range) close the mouth; above, rescaled to 0..1.
    peak_init_db, peak_decay_db_s : float
        Automatic gain: the peak starts at ``peak_init_db`` (dB of mean square re. full
        scale) and decays by ``peak_decay_db_s`` per second, rising to any louder frame.
    past_ms : float
        Past frames in the triangular smoothing window.
    max_jaw : float
        ``jaw_open`` (fraction of the eye-corner distance) at opening 1.
    """

    low_hz: float = 300.0
    high_hz: float = 3400.0
    range_db: float = 30.0
    gate: float = 0.25
    peak_init_db: float = -30.0
    peak_decay_db_s: float = 4.0
    past_ms: float = 80.0
    max_jaw: float = 0.28


class EnergyAnimator(FrameAnimator):
    """Model-free fallback: speech-band energy -> mouth opening (see :mod:`talkinghead.streaming`).

    Parameters
    ----------
    fps : float
    lookahead_ms : float
        0..200 ms of future frames in the smoothing window (rounded to whole frames).
    config : EnergyConfig, optional
    """

    name = "energy"

    def __init__(
        self, *, fps: float = 25.0, lookahead_ms: float = 40.0, config: EnergyConfig | None = None
    ) -> None:
        import scipy.signal

        from ..face.normalize import neutral_face_68

        self.fps = check_positive("fps", fps)
        lookahead_ms = _check_lookahead(lookahead_ms)
        self.cfg = config or EnergyConfig()
        self.sr = MODEL_SR
        self.L = int(round(lookahead_ms * self.fps / 1000.0))
        self.P = int(round(self.cfg.past_ms * self.fps / 1000.0))
        self.lookahead_ms = 1000.0 * self.L / self.fps
        self.win = int(round(self.sr / self.fps))
        self.window_ms = 1000.0 * self.win / self.sr
        width = max(self.P, self.L) + 1
        self.kernel = 1.0 - np.abs(np.arange(-self.P, self.L + 1)) / width  # (P + L + 1,)
        self.sos = scipy.signal.butter(
            4, [self.cfg.low_hz, self.cfg.high_hz], btype="bandpass", fs=self.sr, output="sos"
        )
        self.neutral = neutral_face_68()
        self.grid = FrameGrid(sr=self.sr, fps=self.fps, win=self.win)
        self.reset()

    def reset(self) -> None:
        """Forget the stream (start a new one)."""
        self._zi = np.zeros((self.sos.shape[0], 2))
        self.buf = SampleBuffer()
        self.n_raw = 0
        self.raw: list[float] = []  # openings of rows >= raw_start
        self.raw_start = 0
        self._peak = float(self.cfg.peak_init_db)
        self.n_out = 0

    # --------------------------------------------------------------- shared maths
    def _level_to_open(self, db: np.ndarray, peak0: float) -> tuple[np.ndarray, float]:
        """Causal gain + gate over a run of frame levels; returns openings and the new peak."""
        c = self.cfg
        decay = c.peak_decay_db_s / self.fps
        out = np.empty(len(db))
        peak = peak0
        for i, v in enumerate(db):  # a recursion: one step per frame
            peak = max(float(v), peak - decay)
            x = (v - (peak - c.range_db)) / c.range_db
            out[i] = min(max((x - c.gate) / (1.0 - c.gate), 0.0), 1.0)
        return out, peak

    def _frames_from_open(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from ..face.articulation import articulation_to_landmarks

        art = np.zeros((len(a), 4))
        art[:, 0] = a * self.cfg.max_jaw
        lm = articulation_to_landmarks(art, neutral=self.neutral).reshape(len(a), 68, 2)
        return lm.astype(np.float32), _mouth_open(lm)

    def _smooth_at(self, t: int, raw: np.ndarray, raw0: int, n: int) -> float:
        lo, hi = max(0, t - self.P), min(n, t + self.L + 1)
        w = self.kernel[lo - (t - self.P) : hi - (t - self.P)]
        return float(np.dot(w, raw[lo - raw0 : hi - raw0]) / w.sum())

    # --------------------------------------------------------------- offline
    def offline(self, y: np.ndarray) -> OfflineResult:
        """Whole-signal reference (``y``: float samples at 16 kHz)."""
        import scipy.signal

        y = np.asarray(y, dtype=np.float64)
        n = n_frames_for(len(y) / self.sr, self.fps)
        x = scipy.signal.sosfilt(self.sos, y, zi=np.zeros((self.sos.shape[0], 2)))[0]
        fr = gather_windows(x, self.grid.start(np.arange(n)), self.win)
        db = 10.0 * np.log10(np.mean(fr * fr, axis=1) + 1e-10)
        raw, _ = self._level_to_open(db, float(self.cfg.peak_init_db))
        a = np.array([self._smooth_at(t, raw, 0, n) for t in range(n)])
        lm, mo = self._frames_from_open(a)
        return OfflineResult(lm.reshape(n, 68, 2), mo)

    # --------------------------------------------------------------- streaming
    def _new_raw(self, stop: int) -> None:
        t = np.arange(self.n_raw, stop)
        if len(t) == 0:
            return
        fr = self.buf.windows(self.grid.start(t), self.win)
        db = 10.0 * np.log10(np.mean(fr * fr, axis=1) + 1e-10)
        a, self._peak = self._level_to_open(db, self._peak)
        self.raw.extend(a.tolist())
        self.n_raw = stop
        self.buf.discard_before(int(self.grid.start(stop)))

    def _emit(self, stop: int, n_total: int | None) -> list[StreamFrame]:
        ts = list(range(self.n_out, stop))
        if not ts:
            return []
        raw = np.asarray(self.raw)
        n = self.n_raw if n_total is None else n_total
        a = np.array([self._smooth_at(t, raw, self.raw_start, n) for t in ts])
        lm, mo = self._frames_from_open(a)
        from ..face.arkit import ARKIT_NAMES
        from ..models.blendshape_bridge import articulation_to_blendshapes

        art = np.zeros((len(a), 4))
        art[:, 0] = a * self.cfg.max_jaw
        art[:, 3] = np.clip((0.08 - art[:, 0]) / 0.06, 0.0, 1.0)  # lips meet as the jaw closes
        bs = articulation_to_blendshapes(art)
        frames = []
        for i, t in enumerate(ts):
            need = self.grid.need(min(t + self.L, n - 1)) if n_total is None else self.buf.total
            frames.append(
                StreamFrame(
                    index=t,
                    time=t / self.fps,
                    landmarks=lm[i],
                    mouth_open=float(mo[i]),
                    ready_sample=int(need),
                    blendshapes={
                        n: float(v) for n, v in zip(ARKIT_NAMES, bs[i], strict=True) if v > 1e-4
                    },
                )
            )
        self.n_out = stop
        keep = max(0, stop - self.P) - self.raw_start  # raw rows still needed
        if keep > 0:
            del self.raw[:keep]
            self.raw_start += keep
        return frames

    def push(self, y: np.ndarray) -> list[StreamFrame]:
        """Add 16 kHz float samples; return the frames now determined."""
        import scipy.signal

        y = np.asarray(y, np.float64)
        if len(y):
            x, self._zi = scipy.signal.sosfilt(self.sos, y, zi=self._zi)
            self.buf.append(x)
        self._new_raw(self.grid.n_ready(self.buf.total, False))
        return self._emit(max(self.n_out, self.n_raw - self.L), None)

    def finish(self) -> list[StreamFrame]:
        """End of stream: the remaining frames."""
        n = self.grid.n_ready(self.buf.total, True)
        self._new_raw(n)
        return self._emit(n, n)


class ModelAnimator(FrameAnimator):
    """A causal SequenceModel on eskimez2018 features, streamed with ``forward_chunk``.

    Parameters
    ----------
    model : SequenceModel
        Unidirectional (no "B" layer), input_dim ``128 * (c + 1)`` with ``c`` the
        checkpoint's eskimez2018 context frames (``meta["recipe_state"]["context_frames"]``,
        0 when absent), outputs decoding to 136 values (68 eye-pinned landmarks, x0, y0,
        x1, ...). Shared read-only between animators.
    fps : float, optional
        Default: the checkpoint's ``meta["fps"]`` (or 25).
    """

    name = "model"

    def __init__(self, model, *, fps: float | None = None) -> None:
        cfg = model.config
        if not cfg.is_causal:
            raise InvalidArgumentError(
                f"layers={cfg.layers} must be unidirectional for streaming (no 'B' layer)"
            )
        state = model.meta.get("recipe_state") or {}
        self.context = int(state.get("context_frames", 0)) if isinstance(state, dict) else 0
        if cfg.input_dim != 128 * (self.context + 1):
            raise InvalidArgumentError(
                f"input_dim={cfg.input_dim} must be {128 * (self.context + 1)} (eskimez2018 "
                f"features with {self.context} context frames) for streaming"
            )
        tt = model.target_transform
        out_dim = cfg.output_dim if tt is None else int(tt.decode(np.zeros(tt.dim)).size)
        if out_dim != 136:
            raise InvalidArgumentError(
                f"decoded output dim={out_dim} must be 136 (68 landmarks) for streaming"
            )
        self.model = model.eval()
        self.fps = check_positive("fps", fps or float(model.meta.get("fps", 25.0)))
        self.sr = MODEL_SR
        self.delay = cfg.delay_frames
        self.lookahead_ms = 1000.0 * self.delay / self.fps
        self.window_ms = 40.0
        self.name = f"model:{model.meta.get('recipe', 'sequence')}"
        self.reset()

    @classmethod
    def from_pretrained(cls, directory, *, fps: float | None = None) -> ModelAnimator:
        from ..models.sequence import SequenceModel

        return cls(SequenceModel.from_pretrained(directory), fps=fps)

    def reset(self) -> None:
        self.feats = EskimezFeatureStream(sr=self.sr, fps=self.fps)
        self.state = None
        self.n_steps = 0
        self._hist: np.ndarray | None = None  # the last ``context`` feature rows

    def _with_context(self, x: np.ndarray) -> np.ndarray:
        """Rows ``[x_t, x_{t-1}, ..., x_{t-c}]`` as :func:`recipes.eskimez2018.add_context`
        gives offline (rows before the first repeat the first)."""
        c = self.context
        if c == 0:
            return x
        if len(x) == 0:
            return np.zeros((0, x.shape[1] * (c + 1)), x.dtype)
        if self._hist is None:
            self._hist = np.repeat(x[:1], c, axis=0)
        full = np.concatenate([self._hist, x])
        idx = c + np.arange(len(x))[:, None] - np.arange(c + 1)[None, :]
        self._hist = full[-c:]
        return full[idx].reshape(len(x), -1)

    def _norm(self, x: np.ndarray) -> np.ndarray:
        x = self._with_context(x)
        n = self.model.normalizer
        return (x if n is None else n.transform(x)).astype(np.float32)

    def _decode(self, z: np.ndarray) -> np.ndarray:
        tt = self.model.target_transform
        return (z if tt is None else tt.decode(z)).astype(np.float32)

    def _run(self, x: np.ndarray, n_total: int | None) -> list[StreamFrame]:
        import torch

        if len(x) == 0:
            return []
        with torch.no_grad():
            z, self.state = self.model.forward_chunk(torch.from_numpy(x)[None], self.state)
        steps = np.arange(self.n_steps, self.n_steps + len(x))
        self.n_steps += len(x)
        keep = steps >= self.delay
        if not keep.any():
            return []
        lm = self._decode(z[0].numpy()[keep]).reshape(-1, 68, 2)
        mo = _mouth_open(lm)
        out = []
        for i, s in enumerate(steps[keep]):
            t = int(s - self.delay)
            need = self.feats.grid.need(int(s)) if n_total is None else self.feats.buf.total
            out.append(StreamFrame(t, t / self.fps, lm[i], float(mo[i]), int(need)))
        return out

    def push(self, y: np.ndarray) -> list[StreamFrame]:
        """Add 16 kHz float samples; return the frames now determined."""
        return self._run(self._norm(self.feats.push(y)), None)

    def finish(self) -> list[StreamFrame]:
        """End of stream: remaining rows, then ``delay`` zero rows (as ``predict`` does)."""
        x = self._norm(self.feats.finish())
        n = self.feats.n_rows
        pad = np.zeros((self.delay if n else 0, self.model.config.input_dim), np.float32)
        return self._run(np.concatenate([x, pad]), n)

    def offline(self, y: np.ndarray) -> OfflineResult:
        """Whole-signal reference: offline features + ``SequenceModel.predict``."""
        from ..audio.features import eskimez2018

        x = eskimez2018(y=np.asarray(y, np.float32), sr=self.sr, fps=self.fps)
        if len(x) == 0:
            return OfflineResult(np.zeros((0, 68, 2), np.float32), np.zeros(0, np.float32))
        if self.context:
            from ..recipes.eskimez2018 import add_context

            x = add_context(x, self.context)
        lm = self.model.predict(x).reshape(-1, 68, 2).astype(np.float32)
        return OfflineResult(lm, _mouth_open(lm))


def _check_lookahead(ms) -> float:
    try:
        v = float(ms)
    except (TypeError, ValueError):
        v = float("nan")
    if not 0.0 <= v <= MAX_LOOKAHEAD_MS:
        raise InvalidArgumentError(f"lookahead_ms={ms!r} must be a number in [0, 200]")
    return v


#: ``model`` values of :func:`load_animator` that name a built-in animator.
BUILTIN_ANIMATORS = ("default", "energy")


def load_animator(
    model_dir: str | os.PathLike | None = None,
    *,
    fps: float = 25.0,
    lookahead_ms: float = 40.0,
):
    """A factory of per-stream animators: ``factory(fps, lookahead_ms, seed=0) -> FrameAnimator``.

    Choice (never a silent fallback):

    - ``None`` or ``"default"``: the shipped causal default model
      (``talkinghead/data/default_causal``,
      :class:`~talkinghead.models.causal_default.CausalDefaultModel`, streamed by
      :class:`~talkinghead.streaming.LearnedAnimator` with the whole face);
    - ``"energy"``: the model-free :class:`EnergyAnimator` (asked for by name only);
    - a folder: a causal default-model checkpoint, or a causal :class:`SequenceModel`
      checkpoint (:class:`ModelAnimator`).

    The factory's ``name`` says which animator runs (and from which folder).

    Raises
    ------
    CheckpointError
        The folder (or the shipped default) is missing or not a loadable streaming model;
        an offline-only model (the offline default model) is refused with the reason.
    InvalidArgumentError
        Bad ``fps`` or ``lookahead_ms``.
    """
    import json

    from ..errors import CheckpointError

    check_positive("fps", fps)
    _check_lookahead(lookahead_ms)
    if model_dir is not None and str(model_dir) == "energy":
        return _Factory("energy", None)
    from ..data import MOUTH_V2_CAUSAL_DIR
    from ..models.causal_default import CAUSAL_DIR
    from ..models.causal_default import CHECKPOINT_FORMAT as CAUSAL_FORMAT

    default = model_dir is None or str(model_dir) == "default"
    directory = MOUTH_V2_CAUSAL_DIR if default else Path(model_dir)
    family = _mouth_family(directory)
    if family:
        from ..models.mouth import MouthModel

        models = {L: MouthModel.from_pretrained(d) for L, d in family.items()}
        for m in models.values():
            MouthAnimator(m, fps=fps)  # validate now
        label = "mouth-v2-causal" if default else f"mouth-causal:{directory}"
        return _Factory(label, models, kind="mouth")
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        what = "the shipped streaming mouth v2" if default else "a checkpoint"
        raise CheckpointError(
            f"model='{directory}' must be a folder with config.json or la<L>/config.json "
            f"({what}); use model='energy' for the model-free animator"
        )
    try:
        fmt = json.loads(cfg_path.read_text(encoding="utf-8")).get("format")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as e:
        raise CheckpointError(f"path='{cfg_path}' must be a readable JSON object: {e}") from None
    if fmt == CAUSAL_FORMAT:
        from ..models.causal_default import CausalDefaultModel

        model = CausalDefaultModel.from_pretrained(directory)
        LearnedAnimator(model, fps=fps, lookahead_ms=lookahead_ms)  # validate now
        label = "default-causal" if directory == CAUSAL_DIR else f"causal:{directory}"
        return _Factory(label, model, kind="learned")
    if fmt == "talkinghead.MouthModel":
        from ..models.mouth import MouthModel

        model = MouthModel.from_pretrained(directory)
        check_mouth_streamable(model)
        MouthAnimator(model, fps=fps)
        return _Factory(f"mouth-causal:{directory}", {int(model.config.lookahead): model},
                        kind="mouth")  # fmt: skip
    if fmt == "talkinghead.DefaultModel":
        raise CheckpointError(
            f"model='{directory}' is the offline default model (its front end sees +-1.5 s "
            "of audio and it normalises per utterance): it cannot stream; use the causal "
            "default model (model='default') or a causal checkpoint"
        )
    from ..models.sequence import SequenceModel

    model = SequenceModel.from_pretrained(directory)
    ModelAnimator(model)  # validate now, not at the first stream
    return _Factory(f"model:{directory}", model, kind="sequence")


def _mouth_family(directory: Path) -> dict[int, Path]:
    """``{L: folder}`` of a folder of causal mouth checkpoints ``la<L>/`` (L in 20 ms
    frames), or {} when ``directory`` is not such a folder."""
    if (directory / "config.json").is_file() or not directory.is_dir():
        return {}
    out = {}
    for d in sorted(directory.glob("la*")):
        if d.name[2:].isdigit() and (d / "config.json").is_file():
            out[int(d.name[2:])] = d
    return out


def pick_lookahead(available, lookahead_ms: float) -> int:
    """The largest look-ahead (20 ms frames) in ``available`` not above ``lookahead_ms``
    (the smallest when all are above)."""
    av = sorted(int(v) for v in available)
    ok = [v for v in av if 20.0 * v <= float(lookahead_ms) + 1e-9]
    return ok[-1] if ok else av[0]


@dataclass
class _Factory:
    name: str
    model: object = field(default=None, repr=False)
    kind: str = "energy"

    def __call__(self, fps: float = 25.0, lookahead_ms: float = 40.0, seed: int = 0):
        if self.kind == "energy":
            return EnergyAnimator(fps=fps, lookahead_ms=lookahead_ms)
        if self.kind == "learned":
            return LearnedAnimator(self.model, fps=fps, lookahead_ms=lookahead_ms, seed=seed,
                                   name=self.name)  # fmt: skip
        if self.kind == "mouth":
            L = pick_lookahead(self.model, lookahead_ms)
            return MouthAnimator(self.model[L], fps=fps, seed=seed, name=self.name)
        return ModelAnimator(self.model)


# ----------------------------------------------------------------------------- learned model
# The learned default model on a live stream: :class:`LearnedAnimator` (the whole face).
#
# :class:`LearnedAnimator` streams :class:`~talkinghead.models.causal_default.CausalDefaultModel`
# (the causal counterpart of the offline default model, look-ahead 0-200 ms in 20 ms steps)
# and gives every frame what the offline ``animate()`` gives: 68 landmarks with brows and
# eyelids drawn, all 52 ARKit blendshapes, the head rotation, brow and blink values, from the
# same generators run causally (:class:`~talkinghead.models.expression.CausalUpperFace`).
#
# Per video frame ``t`` (time ``t / fps``):
#
# - mouth z-score: the chosen head's 50 Hz rows interpolated to ``t / fps``
#   (:func:`~talkinghead.models.causal_default.interp_to_frames`), mapped by the offline
#   model's calibration;
# - speech gate: the RMS of ``[(t - 0.5) / fps, (t + 0.5) / fps)`` in dB,
#   :func:`~talkinghead.models.causal_default.causal_gate`;
# - articulation, landmarks and blendshapes as offline
#   (:func:`~talkinghead.models.default.zscore_to_articulation`,
#   :func:`~talkinghead.models.phonetic.articulation_to_landmarks`,
#   :func:`~talkinghead.models.blendshape_bridge.articulation_to_blendshapes` + blinks and
#   brows as :func:`~talkinghead.models.blendshape_bridge.animation_to_blendshapes`);
# - upper face: :class:`~talkinghead.models.expression.CausalUpperFace` (seeded).
#
# :meth:`LearnedAnimator.offline` computes the same on a whole signal; the stream gives
# the same frames for any chunking (``tests/serve/test_streaming.py``).


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
        from ..face.normalize import neutral_face_68

        self.model = model
        self.fps = check_positive("fps", fps)
        self.sr = MODEL_SR
        self.head = model.head_for(_check_lookahead(lookahead_ms))
        self.D = int(model.config.delays[self.head])
        self.lookahead_ms = 20.0 * self.D
        self.seed = int(seed)
        self.name = f"{name}:{self.lookahead_ms:g}ms"
        self.neutral = neutral_face_68()
        self.gate_db = float(model.config.threshold_db)
        self.gate_ref = None
        self.ramp_frames = int(model.config.ramp_frames)
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
        from ..models.expression import CausalUpperFace

        self.st = self.model.new_state()
        self.up = CausalUpperFace(fps=self.fps, sr=self.sr, seed=self.seed)
        self.z: list = []  # z rows (floats or DOF vectors) from z0 on (row i = frame i at 50 Hz)
        self.z0 = 0
        self.n_trunk = 0
        self.x = np.zeros(0, np.float64)  # recent real samples, from x0
        self.x0 = 0
        self.total = 0
        self.g_ref = -np.inf if self.gate_ref is None else float(self.gate_ref)
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

    def _articulation(self, zt: np.ndarray, gate: np.ndarray) -> np.ndarray:
        """Interpolated z rows (T,) and gate (T,) -> articulation (T, 4)."""
        from ..models.default import zscore_to_articulation

        cal = self.model.calibration
        zc = zt if cal is None else np.interp(zt, cal[0], cal[1])
        c = self.model.config
        return zscore_to_articulation(zc, gate, centre=c.centre, spread=c.spread)

    def _z_offline(self, y: np.ndarray) -> np.ndarray:
        """The z rows of a whole 16 kHz signal (row ``i``: 50 Hz frame ``i``)."""
        return self.model.zscore_offline(y, self.head)

    def _face(self, zt: np.ndarray, gate: np.ndarray, up) -> dict:
        from ..face.arkit import ARKIT_INDEX
        from ..face.articulation import articulation_to_landmarks
        from ..models.blendshape_bridge import articulation_to_blendshapes
        from ..models.expression import apply_upper_face_68

        art = self._articulation(zt, gate)
        n = len(zt)
        lm = articulation_to_landmarks(art, neutral=self.neutral).reshape(n, 68, 2)
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
        from ..models.causal_default import causal_gate, interp_index
        from ..models.expression import CausalUpperFace

        y = np.asarray(y, np.float64)
        n = n_frames_for(len(y) / self.sr, self.fps)
        t = np.arange(n)
        z = np.asarray(self._z_offline(y), np.float64)
        if n:
            lo, w = interp_index(t, self.fps)
            zt = _interp_rows(z, lo, w, 0)
        else:
            zt = np.zeros((0,) + z.shape[1:])
        s, e = self._edges(t)
        db = _rms_db(y, s, e, 0) if n else np.zeros(0)
        gate = causal_gate(db, threshold_db=self.gate_db, ramp_frames=self.ramp_frames,
                           ref_floor_db=self.gate_ref)  # fmt: skip
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
        from ..models.causal_default import MEL_HOP, MEL_WIN

        s = self._zrow(t) + self.D  # trunk frame
        mel_end = MEL_HOP * (2 * s + 1) + MEL_WIN // 2
        gate_end = round((t + 0.5) * self.sr / self.fps)
        span_end = round(t * self.sr / self.fps)
        return max(mel_end, gate_end, span_end)

    def _emit(self, n_final: int | None) -> list[StreamFrame]:
        p = self._prepare(n_final)
        if p is None:
            return []
        return self._finalize(p, self._face(p["zt"], p["gate"], p["up"]))

    def _face_key(self):
        """Animators with equal keys share :meth:`_face` (batched by :func:`push_batch`)."""
        return (type(self), id(self.model), id(self.neutral))

    def _prepare(self, n_final: int | None) -> dict | None:
        """The per-stream half of emitting the frames now determined: their z rows, gate and
        upper face (state advanced), or None when no frame is ready."""
        from ..models.causal_default import interp_index

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
            return None
        lo, w = interp_index(ts, self.fps)
        zt = _interp_rows(np.asarray(self.z, np.float64), lo, w, self.z0)
        # gate (the recursion of causal_gate)
        s, e = self._edges(ts)
        db = _rms_db(self.x, s, e, self.x0)
        r = max(1, self.ramp_frames)
        gate = np.empty(len(ts))
        for i, v in enumerate(db):
            self.g_ref = max(self.g_ref, float(v))
            self.g_hist = (self.g_hist + [1.0 if v >= self.g_ref + self.gate_db else 0.0])[-r:]
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
        ready = needs if n_final is None else [int(total)] * len(ts)
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
        return {"ts": ts, "zt": zt, "gate": gate, "up": up, "ready": ready}

    def _finalize(self, p: dict, f: dict) -> list[StreamFrame]:
        """StreamFrames from :meth:`_prepare`'s rows and :meth:`_face`'s arrays."""
        from ..face.arkit import ARKIT_NAMES

        lm, mo, bs = f["landmarks"], f["mouth_open"].tolist(), f["blendshapes"].tolist()
        hp, br, bl = f["head_pose"], f["brow"].tolist(), f["blink"].tolist()
        return [
            StreamFrame(
                index=int(t),
                time=t / self.fps,
                landmarks=lm[i],
                mouth_open=mo[i],
                ready_sample=int(p["ready"][i]),
                blendshapes=dict(zip(ARKIT_NAMES, bs[i], strict=True)),
                head_pose=hp[i],
                brow=br[i],
                blink=bl[i],
            )  # fmt: skip
            for i, t in enumerate(p["ts"].tolist())
        ]

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
        self._ingest(y)
        return self._emit(None)

    def _ingest(self, y: np.ndarray, model: bool = True) -> None:
        y = np.asarray(y, np.float64).reshape(-1)
        if len(y):
            self.x = np.concatenate([self.x, y])
            self.total += len(y)
        if model:
            self._model_push(y)

    def finish(self) -> list[StreamFrame]:
        """End of stream: the model gets the zero padding of the offline pass."""
        n = n_frames_for(self.total / self.sr, self.fps)
        self._model_finish()
        return self._emit(n)

    def _model_push(self, y: np.ndarray) -> None:
        self._add_heads(self.model.push(self.st, y))

    def _model_finish(self) -> None:
        pad = np.zeros(self.model.pad_samples(self.head))
        self._add_heads(self.model.push(self.st, pad, end=True))


def _interp_rows(z: np.ndarray, lo: np.ndarray, w: np.ndarray, z0: int) -> np.ndarray:
    """Rows ``z`` (n,) or (n, k) (row 0 = 50 Hz frame ``z0``) interpolated at
    :func:`~talkinghead.models.causal_default.interp_index`'s ``(lo, w)``."""
    a = z[np.clip(lo - z0, 0, len(z) - 1)]
    b = z[np.clip(lo + 1 - z0, 0, len(z) - 1)]
    if z.ndim == 2:
        w = w[:, None]
    return (1.0 - w) * a + w * b


class MouthAnimator(LearnedAnimator):
    """The streaming mouth v2 (a causal :class:`~talkinghead.models.mouth.MouthModel` on
    the ``"causal"`` front end), with the whole face.

    Per 20 ms row: the causal default model's trunk (ReLU activations + heads, streamed by
    :meth:`~talkinghead.models.causal_default.CausalDefaultModel.push`) -> the mouth
    network's causal convolutions, run row by row with their past kept per block -> output
    row ``p`` is frame ``p - L`` (``L`` = the checkpoint's ``lookahead``) -> per-DOF
    calibration and the prior blend (:meth:`~talkinghead.models.mouth.MouthModel.calibrate_outputs`)
    -> six DOF z-scores, interpolated to the video frames, causally gated (the checkpoint's
    ``gate_db`` below the loudest frame so far, or below its ``gate_ref_db`` while that is
    louder) -> articulation
    (:func:`~talkinghead.face.articulation.dofs_to_articulation`), landmarks and all 52
    blendshapes; upper face as :class:`LearnedAnimator`.

    :meth:`offline` (``MouthModel.predict_dofs`` on
    :func:`~talkinghead.models.mouth.causal_frames`, then the same read-out) is what the
    stream equals for any chunking.

    Parameters
    ----------
    model : MouthModel
        ``config.frontend == "causal"`` and ``config.lookahead`` set. Shared read-only.
    fps : float
    seed : int
    name : str, optional
    """

    def __init__(self, model, *, fps: float = 25.0, seed: int = 0,
                 name: str = "mouth-v2-causal") -> None:  # fmt: skip
        from ..face.normalize import neutral_face_68

        check_mouth_streamable(model)
        self.mouth = model
        self.model = model.causal
        self.fps = check_positive("fps", fps)
        self.sr = MODEL_SR
        self.D = int(model.config.lookahead)
        self.lookahead_ms = 20.0 * self.D
        self.seed = int(seed)
        self.name = f"{name}:{self.lookahead_ms:g}ms"
        self.neutral = neutral_face_68()
        self.gate_db = float(model.config.gate_db)
        ref = model.config.gate_ref_db
        self.gate_ref = None if ref is None else float(ref)
        self.ramp_frames = 2
        cfg = model.config
        self._prior_col = (self.model.config.channels + self.model.head_for(self.lookahead_ms)
                           if cfg.prior else None)  # fmt: skip
        # the network and its ensemble members (MouthModel.network averages their outputs)
        self._nets = [_StreamNet(w, cfg) for w in [model.weights, *model.members]]
        self.reset()

    def reset(self) -> None:
        super().reset()
        cfg = self.mouth.config
        c = cfg.channels
        self.hists = [[np.zeros((c, (cfg.kernel - 1) * d), np.float32) for d in cfg.dilations]
                      for _ in self._nets]  # fmt: skip
        self.n_feat = 0
        self.last_row = None

    def _z_offline(self, y: np.ndarray) -> np.ndarray:
        from ..models.mouth import causal_frames

        return self.mouth.predict_dofs(causal_frames(self.model, y))

    def _articulation(self, zt: np.ndarray, gate: np.ndarray) -> np.ndarray:
        from ..face.articulation import dofs_to_articulation

        return dofs_to_articulation(zt, self.mouth.dof_stats, gate)

    def _net(self, rows: np.ndarray) -> None:
        """Feature rows (k, in_dim) -> the network's new outputs, calibrated, into ``z``."""
        if len(rows) == 0:
            return
        x = (rows - self.mouth.feature_mean) / self.mouth.feature_scale  # as normalize()
        xt = np.ascontiguousarray(x.T, np.float32)
        k = xt.shape[1]
        out = self._nets[0].run(xt, self.hists[0])
        for net, hist in zip(self._nets[1:], self.hists[1:], strict=True):
            out += net.run(xt, hist)
        out = (out / len(self._nets)).T.astype(np.float32)  # (k, n_out)
        pos = self.n_feat + np.arange(k)
        self.n_feat += k
        keep = pos >= self.D  # output p is frame p - D
        if not keep.any():
            return
        prior = None
        if self._prior_col is not None:
            prior = rows[keep, self._prior_col].astype(np.float64)
            cal = self.model.calibration
            if cal is not None:
                prior = np.interp(prior, cal[0], cal[1])
        z = self.mouth.calibrate_outputs(out[keep], prior)
        self.z.extend(z)

    def _model_push(self, y: np.ndarray) -> None:
        rows = self.model.push(self.st, y, features=True)
        if len(rows):
            self.last_row = rows[-1:]
        self._net(rows)

    @staticmethod
    def _push_many(animators, ys) -> None:
        """:meth:`_model_push` for several animators of one MouthModel at once (the trunk
        and the network batched over the streams, row position by row position)."""
        from ..models.causal_default import causal_blocks_batch

        a0 = animators[0]
        m = a0.mouth
        rows = a0.model.push_many([a.st for a in animators], ys, features=True)
        ks = [len(r) for r in rows]
        if not any(ks):
            return
        outs = [[] for _ in animators]
        for r in range(max(ks)):
            idx = [s for s, k in enumerate(ks) if k > r]
            x = np.stack([rows[s][r] for s in idx])
            x = ((x - m.feature_mean) / m.feature_scale).astype(np.float32)  # as normalize()
            o = None
            for n, net in enumerate(a0._nets):
                h = x @ net.inp_w.T + net.inp_b[:, 0]
                h = causal_blocks_batch(h, [animators[s].hists[n] for s in idx], net.wcat,
                                        net.bias, m.config.dilations, m.config.kernel)  # fmt: skip
                on = np.maximum(h, 0) @ net.out_w.T + net.out_b[:, 0]
                o = on if o is None else o + on
            o = (o / len(a0._nets)).astype(np.float32)
            for j, s in enumerate(idx):
                outs[s].append(o[j])
        keep_out, keep_prior, owners = [], [], []
        for s, a in enumerate(animators):
            k = ks[s]
            if not k:
                continue
            a.last_row = rows[s][-1:]
            pos = a.n_feat + np.arange(k)
            a.n_feat += k
            keep = pos >= a.D
            if not keep.any():
                continue
            keep_out.append(np.stack(outs[s])[keep])
            if a._prior_col is not None:
                keep_prior.append(rows[s][keep, a._prior_col].astype(np.float64))
            owners.append((s, int(keep.sum())))
        if not owners:
            return
        prior = None
        if keep_prior:
            prior = np.concatenate(keep_prior)
            cal = a0.model.calibration
            if cal is not None:
                prior = np.interp(prior, cal[0], cal[1])
        z = m.calibrate_outputs(np.concatenate(keep_out), prior)
        i = 0
        for s, n in owners:
            animators[s].z.extend(z[i : i + n])
            i += n

    def _model_finish(self) -> None:
        from ..models.mouth import causal_n50, causal_pad

        n50 = causal_n50(self.total)
        rows = self.model.push(self.st, np.zeros(causal_pad(self.total)), end=True,
                               features=True)[: max(0, n50 - self.n_feat)]  # fmt: skip
        if len(rows):
            self.last_row = rows[-1:]
        self._net(rows)
        if self.D and self.last_row is not None:  # as raw_outputs: the last row repeated
            self._net(np.repeat(self.last_row, self.D, axis=0))


class _StreamNet:
    """One causal mouth network's weights laid out for streaming (:class:`MouthAnimator`)."""

    def __init__(self, w: dict, cfg) -> None:
        n = len(cfg.dilations)
        self.cfg = cfg
        self.inp_w, self.inp_b = w["inp.weight"][:, :, 0], w["inp.bias"][:, None]
        self.taps = [[np.ascontiguousarray(w[f"blocks.{i}.conv.weight"][:, :, j])
                      for j in range(cfg.kernel)] for i in range(n)]  # fmt: skip
        self.bias = [w[f"blocks.{i}.conv.bias"][:, None] for i in range(n)]
        self.out_w, self.out_b = w["out.weight"][:, :, 0], w["out.bias"][:, None]
        self.wcat = [np.ascontiguousarray(np.concatenate(t, axis=1)) for t in self.taps]

    def run(self, xt: np.ndarray, hist: list) -> np.ndarray:
        """Standardised input columns (in_dim, k) -> outputs (n_out, k); ``hist`` (per block
        its last ``(kernel - 1) d`` ReLU inputs) is updated in place."""
        cfg = self.cfg
        h = self.inp_w @ xt + self.inp_b
        k = h.shape[1]
        for i, d in enumerate(cfg.dilations):
            a = np.maximum(h, 0, dtype=np.float32)
            xp = np.concatenate([hist[i], a], axis=1)
            taps = self.taps[i]
            acc = taps[0] @ xp[:, :k]
            for j in range(1, cfg.kernel):
                acc += taps[j] @ xp[:, j * d : j * d + k]
            h = h + acc + self.bias[i]
            p = hist[i].shape[1]
            if p:
                hist[i] = xp[:, xp.shape[1] - p :]
        return self.out_w @ np.maximum(h, 0) + self.out_b


def check_mouth_streamable(model) -> None:
    """Raise unless ``model`` (a MouthModel) can stream: causal front end and convolutions."""
    cfg = model.config
    if cfg.frontend != "causal" or cfg.lookahead is None or cfg.utterance_norm:
        from ..errors import CheckpointError

        raise CheckpointError(
            f"mouth model (frontend={cfg.frontend!r}, lookahead={cfg.lookahead}, "
            f"utterance_norm={cfg.utterance_norm}) must have frontend='causal', a lookahead "
            "and no utterance normalisation to stream (the offline mouth v2 sees +-0.64 s "
            "of its student's +-1.54 s features and normalises per utterance)"
        )
    if model.causal is None:
        from ..errors import CheckpointError

        raise CheckpointError("mouth model must hold its causal front end (causal/) to stream")
