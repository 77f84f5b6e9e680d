"""The offline mouth v2 with its future cut: what streaming the offline model itself would give.

The offline default (:class:`~talkinghead.models.mouth.MouthModel` with the ``"student"``
front end) is a chain of finite-receptive-field filters plus clip-wide statistics: Whisper
log-mel clamped to the clip's loudest frame minus 8, the distilled student (centred dilated
convolutions, +-77 rows of 20 ms), the ridge prior (+-8 rows) and the per-utterance feature
normalisation, the mouth network (centred convolutions, +-32 rows), the clip-wide speech gate.
Its future receptive field is 77 + 8 + 32 = 117 rows (2.34 s). Streamed with a look-ahead of
``L`` rows, row ``i`` can only be computed from the audio up to row ``i + L``:

:func:`truncated_dofs` gives, for every row ``i``, the model's output on the prefix
``y[: 320 (i + L) + 520]`` (rows ``<= i + L`` have all their mel frames), computed as the
offline model computes the last rows of a clip that ends there (zero padding past the
end, the prior's offsets clamped to the last row), with the clip-wide statistics either

- ``stats="clip"``: taken from the whole clip (an oracle no stream has: the cost of cutting
  the future alone), or
- ``stats="causal"``: what a stream has: each mel frame clamped with the running maximum up
  to it, the utterance normalisation over the prefix's rows as they are then.

The student's rows are computed once they are final (their receptive field inside the
prefix) and kept, so a clip costs a few times its offline pass, not its square.
``trunc_<L>_<stats>`` (e.g. ``trunc_80_causal``, look-ahead in ms) is it as a
``module:function`` system of ``talkinghead evaluate`` (:func:`truncated_system`);
``bench/stream_truncation.py`` scores them on the held-out clips (docs/streaming.md).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["truncated_dofs", "truncated_system", "TRUNCATION_STATS"]
_MODEL: dict = {}

#: The two sources of the clip-wide statistics (module docstring).
TRUNCATION_STATS = ("clip", "causal")


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, dtype=np.float32)


class _PrefixStudent:
    """The student's forward pass on a growing prefix of mel frames; final rows kept."""

    def __init__(self, student, mel: np.ndarray) -> None:
        self.st = student
        self.w = student.weights
        self.mel = np.asarray(mel, np.float32)
        self.dil = [int(d) for d in student.config.dilations]
        self.fut = list(np.cumsum([2 * d for d in self.dil]))
        c = student.config.channels
        self.fin = [np.zeros((c, 0), np.float32) for _ in range(len(self.dil) + 1)]
        wf = self.w["front.weight"]
        self.wf = wf.reshape(wf.shape[0], -1)
        self.taps = [[np.ascontiguousarray(self.w[f"blocks.{b}.conv.weight"][:, :, j])
                      for j in range(5)] for b in range(len(self.dil))]  # fmt: skip

    def _front(self, r0: int, r1: int, nmel: int) -> np.ndarray:
        n = r1 - r0
        cols = np.zeros((self.mel.shape[0], 4, n), np.float32)
        for j in range(4):  # conv k4 stride 2 padding 1: row r reads frames 2r-1 .. 2r+2
            idx = 2 * np.arange(r0, r1) - 1 + j
            ok = (idx >= 0) & (idx < nmel)
            cols[:, j, ok] = self.mel[:, idx[ok]]
        return self.wf @ cols.reshape(-1, n) + self.w["front.bias"][:, None]

    def rows(self, e: int) -> np.ndarray:
        """Features (384 + aux) of rows ``0..e`` of the prefix whose mel ends at frame 2e+2."""
        nmel = min(2 * e + 3, self.mel.shape[1])
        e = nmel // 2 - 1
        f0 = self.fin[0].shape[1]
        if e + 1 > f0:
            self.fin[0] = np.concatenate([self.fin[0], self._front(f0, e + 1, nmel)], axis=1)
        tail = self.fin[0][:, :0]
        for b, d in enumerate(self.dil):
            full = np.concatenate([self.fin[b], tail], axis=1)  # input rows 0..e
            fb = self.fin[b + 1].shape[1]
            lo = max(0, fb - 2 * d)
            left = 2 * d if lo == 0 else 0
            a = np.pad(_relu(full[:, lo : e + 1]), ((0, 0), (left, 2 * d)))
            off = fb - lo + left - 2 * d
            k = e + 1 - fb
            acc = self.taps[b][0] @ a[:, off : off + k]
            for j in range(1, 5):
                acc += self.taps[b][j] @ a[:, off + j * d : off + j * d + k]
            out = full[:, fb : e + 1] + acc + self.w[f"blocks.{b}.conv.bias"][:, None]
            nfin = max(0, min(k, e - int(self.fut[b]) - fb + 1))
            if nfin:
                self.fin[b + 1] = np.concatenate([self.fin[b + 1], out[:, :nfin]], axis=1)
            tail = out[:, nfin:]
        h = np.concatenate([self.fin[-1], tail], axis=1)
        o = (self.w["out.weight"][:, :, 0] @ _relu(h) + self.w["out.bias"][:, None]).T
        d = self.st.config.out_dim
        feats = o[:, :d] * self.st.feature_scale + self.st.feature_mean
        return np.concatenate([feats, o[:, d:]], axis=1)


def _prior(prior, f: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The ridge prior's calibrated opening z on rows ``f`` with given normalisation stats
    (:meth:`~talkinghead.models.default.DefaultModel.predict_zscore` + calibration)."""
    n = prior.feature_mean.size
    x = (f[:, :n] - mu[:n]) / (sd[:n] + 1e-6)
    x = (x - prior.feature_mean) / prior.feature_scale
    proj = x @ prior.weight.reshape(len(prior.offsets), -1).T
    T = len(x)
    out = np.full(T, prior.bias)
    for k, o in enumerate(prior.offsets):
        out += proj[np.clip(np.arange(T) + int(o), 0, T - 1), k]
    return out if prior.calibration is None else np.interp(out, *prior.calibration)


def truncated_dofs(model, y16: np.ndarray, lookahead: int, *, stats: str = "causal"):
    """Per-row DOF z-scores of the offline ``model`` with the future cut ``lookahead`` rows
    (20 ms each) after each row (module docstring).

    Parameters
    ----------
    model : MouthModel
        ``frontend="student"``, centred (``lookahead=None``), with utterance normalisation
        and the ridge prior (the shipped ``data/mouth_v2``).
    y16 : np.ndarray, shape (n,)
        16 kHz samples.
    lookahead : int
        Rows of future audio (>= 0); >= 117 gives the offline output.
    stats : {"clip", "causal"}

    Returns
    -------
    np.ndarray, float64, shape (n // 320, 6)
        Rows as :meth:`MouthModel.predict_dofs` on the offline front end.
    """
    from ..audio.logmel import power_spectrogram, slaney_mel_filterbank

    cfg = model.config
    if cfg.frontend != "student" or cfg.lookahead is not None or not cfg.prior:
        raise InvalidArgumentError(
            f"model (frontend={cfg.frontend!r}, lookahead={cfg.lookahead}, prior={cfg.prior}) "
            "must be an offline student-front-end mouth model with a prior"
        )
    if stats not in TRUNCATION_STATS:
        raise InvalidArgumentError(f"stats={stats!r} must be one of {TRUNCATION_STATS}")
    lookahead = int(lookahead)
    if lookahead < 0:
        raise InvalidArgumentError(f"lookahead={lookahead} must be >= 0")
    y16 = np.asarray(y16, np.float32).reshape(-1)
    fb = slaney_mel_filterbank(sr=16000, n_fft=400, n_mels=80)  # Whisper's
    raw = np.log10(np.maximum(fb @ power_spectrogram(y16)[:, :-1], 1e-10))
    n50 = raw.shape[1] // 2
    out = np.zeros((n50, cfg.n_out))
    if n50 == 0:
        return out
    if stats == "clip":
        mx = np.full(raw.shape[1], raw.max())
    else:
        mx = np.maximum.accumulate(raw.max(0))
    mel = (np.maximum(raw, mx[None, :] - 8.0) + 4.0) / 4.0
    st = _PrefixStudent(model.student, mel)
    if stats == "clip":
        full = model.frontend_frames(y16)
        mu_c, sd_c = full.mean(0), full.std(0)
    past = cfg.receptive_past + 8  # the network's rows and the prior's offsets
    for i in range(n50):
        f = st.rows(min(i + lookahead, n50 - 1))
        lo = max(0, i - past)
        if stats == "clip":
            lo2 = max(0, lo - 8)
            pz = _prior(model.prior, f[lo2:], mu_c[:-1], sd_c[:-1])[lo - lo2 :]
            x = np.concatenate([f[lo:], pz[:, None]], axis=1)
            mu, sd = mu_c, sd_c
        else:
            pz = _prior(model.prior, f, f.mean(0), f.std(0))
            xa = np.concatenate([f, pz[:, None]], axis=1)
            mu, sd = xa.mean(0), xa.std(0)
            x = xa[lo:]
        xn = ((x - mu) / (sd + 1e-6) - model.feature_mean) / model.feature_scale
        r = model.network(xn)
        j = i - lo
        out[i] = model.calibrate_outputs(r[j : j + 1], x[j : j + 1, -1])[0]
    return out


def _model():
    """The shipped offline mouth v2, loaded once."""
    from ..models.mouth import MouthModel

    if "m" not in _MODEL:
        _MODEL["m"] = MouthModel.from_pretrained()
    return _MODEL["m"]


class _Result:
    """What the held-out evaluation reads: landmarks (T, 68, 2) and mouth_open (T,)."""

    def __init__(self, landmarks, mouth_open):
        self.landmarks, self.mouth_open = landmarks, mouth_open


def truncated_system(*, y, sr, fps, n_frames, lookahead_ms, stats):
    """One clip (any rate) through the shipped offline mouth v2 with its future cut
    ``lookahead_ms`` after each row: :func:`truncated_dofs`, then the video-frame
    interpolation, the gate (``"clip"``: the offline speech gate, ``"causal"``: the causal
    gate) and the articulation and landmarks of ``MouthModel.__call__``."""
    from ..audio.whisper import frames_to_fps, to_16k
    from ..face.articulation import articulation_to_landmarks, dofs_to_articulation
    from ..face.landmarks68 import mouth_openness_68
    from ..face.normalize import neutral_face_68
    from ..models.causal_default import causal_gate
    from ..models.default import speech_gate
    from .animators import _rms_db

    m = _model()
    y = np.asarray(y, np.float32)
    y16, fps, n_frames = to_16k(y=y, sr=sr, fps=fps, n_frames=n_frames)
    z50 = truncated_dofs(m, y16, int(round(lookahead_ms / 20.0)), stats=stats)
    z = frames_to_fps(z50, n_samples=len(y16), fps=fps, n_frames=n_frames).astype(np.float64)
    if stats == "clip":
        g = speech_gate(y=y, sr=sr, fps=fps, n_frames=n_frames, threshold_db=m.config.gate_db)
    else:
        t = np.arange(n_frames)
        s = np.round((t - 0.5) * 16000 / fps).astype(np.int64)
        e = np.round((t + 0.5) * 16000 / fps).astype(np.int64)
        db = _rms_db(np.asarray(y16, np.float64), s, e, 0)
        g = causal_gate(db, threshold_db=m.config.gate_db)
    art = dofs_to_articulation(z, m.dof_stats, g)
    lm = articulation_to_landmarks(art, neutral=neutral_face_68()).reshape(n_frames, 68, 2)
    return _Result(lm.astype(np.float32), np.asarray(mouth_openness_68(lm), np.float32))


def __getattr__(name):  # trunc_<L>_<stats>, a module:function for evaluate_heldout
    if not name.startswith("trunc_"):
        raise AttributeError(name)
    _, la, stats = name.split("_")

    def f(*, y, sr, fps, n_frames):
        return truncated_system(y=y, sr=sr, fps=fps, n_frames=n_frames,
                                lookahead_ms=float(la), stats=stats)  # fmt: skip

    f.__name__ = name
    return f
