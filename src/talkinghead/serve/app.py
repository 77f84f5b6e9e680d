"""The FastAPI application of ``talkinghead serve``.

Protocol of ``/ws`` (one stream per connection):

1. client -> server, text: a JSON config
   ``{"sample_rate": 16000, "format": "f32"|"s16", "lookahead_ms": 40, "fps": 25, "seed": 0}``
   (all optional; ``seed`` seeds the head drift and blink times of the learned animator;
   plus ``"token"`` when the server requires one and the URL has no ``?token=``).
   Server -> client: ``{"type": "ready", "animator", "fps", "sample_rate", "latency": {...},
   "limits": {...}}`` (``animator``: the animator really in use, e.g. ``mouth-v2-causal:40ms``).
2. client -> server, binary: little-endian PCM (mono) in the configured format, any size
   up to ``max_message_bytes``. Server -> client, text, for every frame as soon as it is
   determined: ``{"type": "frame", "index", "t", "landmarks": [[x, y] * 68],
   "mouth_open", "blendshapes"?, "head_pose"?, "brow"?, "blink"?, "latency":
   {"algorithmic_ms", "audio_ms", "compute_ms", "queue_ms"}}`` where ``audio_ms`` is how
   much audio past the frame's start the server had pushed when it emitted the frame,
   ``compute_ms`` the time from the arrival of the audio that completed it (the first
   message of the session's batch item) to the frame (waiting for and running the batch:
   :mod:`talkinghead.serve.batching`), ``queue_ms`` its wait in the send queue.
3. client -> server, text: ``{"type": "end"}``. Server: the last frames, then
   ``{"type": "end", "n_frames", "duration"}``, and closes (1000).

Errors: ``{"type": "error", "message"}`` then a close: 1008 (policy: token, config, session
limits, slow client, no config within the pre-auth time), 1003 (unparseable data: invalid
JSON, odd byte counts), 1009 (message too big), 1013 (server full, too many unauthenticated
sockets from one address, or at capacity: admission control,
:mod:`talkinghead.serve.admission`). A socket is a session only once its config (and
token) has arrived. Requests whose ``Host`` or browser ``Origin`` is not the server's are
refused with HTTP 403 before any of this (:mod:`talkinghead.serve.security`,
docs/security.md). Audio work runs in a thread pool; each session has its own animator
state and a bounded send queue (a client that does not read its frames is closed with 1008
rather than letting memory grow).
"""

import asyncio
import contextlib
import functools
import ipaddress
import json
import math
import os
import secrets
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..audio.io import pcm_to_float
from ..errors import InvalidArgumentError, TalkingHeadError
from .batching import PushBatcher, Stream
from .security import ConfigRefused, preauth

__all__ = [
    "ServeConfig",
    "create_app",
    "frame_text",
    "is_loopback",
    "resolve_token",
    "uvicorn_options",
]

STATIC = Path(__file__).resolve().parent / "static"
# a session's whole marginal cost as a factor on its batch work until its rest is measured
STARTUP_OVERHEAD = 1.5


@dataclass
class ServeConfig:
    """Settings of the server (see ``talkinghead serve --help``).

    Attributes
    ----------
    host : str
        Bind address; loopback by default. Any other address requires a token.
    port : int
    token : str or None
        Shared secret clients must send (``?token=`` or ``"token"`` in the config).
    model : str or None
        ``None``/``"default"``: the shipped causal default model; ``"energy"``: the
        model-free animator; else a causal checkpoint folder (a missing one is an error).
    lookahead_ms, fps : float
        Defaults for sessions that do not say.
    max_message_bytes : int
        Largest binary message (1 MiB).
    max_session_s : float
        Longest session (30 min).
    max_sessions, max_sessions_per_ip : int
        Concurrent sessions in all / from one client address.
    send_queue_frames, send_timeout_s
        Frames waiting to be sent; when the queue is full the session waits up to
        ``send_timeout_s`` for room, then closes the client as too slow (1008).
    workers : int
        Threads for audio processing.
    first_message_timeout_s : float
        Pre-auth timeout: time allowed for the config message (with the token).
    allow_origins, allow_hosts : tuple of str
        Browser origins (``https://app.example:443``, ``*`` for any) and ``Host`` names
        accepted besides the server's own (see :mod:`talkinghead.serve.security`).
    max_pending_per_ip : int
        WebSockets of one address that have not sent their config yet (not sessions).
    admission : bool
        Refuse new sessions (close 1013) when the measured load would exceed
        ``cpu_budget`` or live sessions lag (:mod:`talkinghead.serve.admission`).
    cpu_budget : float or None
        Processing seconds per second the sessions may use together (None: 0.85, one
        core: see :mod:`talkinghead.serve.admission`).
    max_lag_ms : float
        Refuse new sessions while a live session's frame lag p95 (chunk arrival -> frame
        sent) exceeds this (60: the issue's target for the whole way from the audio, of
        which this is a part).
    ws_compression : bool
        Offer permessage-deflate to clients (off: it costs CPU on every frame and saves
        only bandwidth; see :func:`uvicorn_options`).
    batch_interval_ms : float
        Least time between the starts of two batches of sessions' audio (0: none;
        :class:`~talkinghead.serve.batching.PushBatcher` ``min_interval_s``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    model: str | None = None
    lookahead_ms: float = 40.0
    fps: float = 25.0
    max_message_bytes: int = 1 << 20
    max_session_s: float = 1800.0
    max_sessions: int = 64
    max_sessions_per_ip: int = 8
    send_queue_frames: int = 500
    send_timeout_s: float = 5.0
    workers: int = field(default_factory=lambda: max(2, min(8, os.cpu_count() or 2)))
    first_message_timeout_s: float = 5.0
    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    max_pending_per_ip: int = 16
    admission: bool = True
    cpu_budget: float | None = None
    max_lag_ms: float = 60.0
    ws_compression: bool = False
    batch_interval_ms: float = 0.0


def uvicorn_options(cfg: ServeConfig) -> dict:
    """Keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` for ``cfg`` (besides host,
    port and log level): the WebSocket size limit (larger messages get a clean 1009 from the
    app) and permessage-deflate off unless ``cfg.ws_compression`` (compressing every frame
    message cost about a third of the event loop's time with 20 sessions:
    docs/streaming.md)."""
    return {
        "ws_max_size": 2 * cfg.max_message_bytes,
        "ws_per_message_deflate": bool(cfg.ws_compression),
    }


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """The token the server requires, and whether it was generated here.

    Loopback binds need none (a given one is still enforced); any other bind requires
    one: ``token`` when given, else a fresh random one (print it for the user).
    """
    if token is not None and not str(token).strip():
        raise InvalidArgumentError("token='' must be a non-empty string")
    if token or is_loopback(host):
        return token, False
    return secrets.token_urlsafe(24), True


class _ClientError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_session_config(msg: dict, defaults: ServeConfig) -> dict:
    """Validate a client's config message; returns sample_rate, format, lookahead_ms, fps.

    Raises
    ------
    InvalidArgumentError
        Unknown keys or out-of-range values (the message says which and what is allowed).
    """
    if not isinstance(msg, dict):
        raise InvalidArgumentError("the first message must be a JSON object (the config)")
    known = {"type", "sample_rate", "format", "lookahead_ms", "fps", "token", "seed"}
    extra = sorted(set(msg) - known)
    if extra:
        raise InvalidArgumentError(f"config keys {extra} are unknown; allowed: {sorted(known)}")
    if msg.get("type", "config") != "config":
        raise InvalidArgumentError(f"type={msg.get('type')!r} must be 'config' (first message)")

    def number(name, default, lo, hi, integer=False):
        v = msg.get(name, default)
        try:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        except OverflowError:  # an integer too large for a float
            ok = False
        if not ok or not lo <= v <= hi or (integer and int(v) != v):
            kind = "an integer" if integer else "a number"
            raise InvalidArgumentError(f"{name}={v!r} must be {kind} in [{lo}, {hi}]")
        return int(v) if integer else float(v)

    fmt = msg.get("format", "f32")
    if fmt not in ("f32", "s16"):
        raise InvalidArgumentError(f"format={fmt!r} must be 'f32' or 's16'")
    return {
        "sample_rate": number("sample_rate", 16000, 8000, 96000, integer=True),
        "format": fmt,
        "lookahead_ms": number("lookahead_ms", defaults.lookahead_ms, 0, 200),
        "fps": number("fps", defaults.fps, 5, 120),
        "seed": None if msg.get("seed") is None else number("seed", 0, 0, 2**31 - 1, integer=True),
    }


class _Stats:
    """Latency and session counters for /health and /stats."""

    def __init__(self) -> None:
        self.compute_ms: deque = deque(maxlen=20000)
        self.audio_ms: deque = deque(maxlen=20000)
        self.queue_ms: deque = deque(maxlen=20000)
        self.frames = 0
        self.sessions_total = 0
        self.closes: Counter = Counter()
        self.started = time.time()

    @staticmethod
    def _summary(v) -> dict:
        if not v:
            return {"n": 0}
        s = sorted(v)
        q = lambda p: round(s[min(len(s) - 1, int(p * len(s)))], 3)  # noqa: E731
        return {"n": len(s), "p50": q(0.5), "p95": q(0.95), "max": round(s[-1], 3)}

    def summary(self) -> dict:
        return {
            "frames": self.frames,
            "sessions_total": self.sessions_total,
            "closes": dict(self.closes),
            "compute_ms": self._summary(self.compute_ms),
            "audio_ms": self._summary(self.audio_ms),
            "queue_ms": self._summary(self.queue_ms),
            "uptime_s": round(time.time() - self.started, 1),
        }


def create_app(config: ServeConfig | None = None, *, factory=None):
    """Build the FastAPI app.

    Parameters
    ----------
    config : ServeConfig, optional
    factory : callable, optional
        ``factory(fps, lookahead_ms) -> FrameAnimator`` (default:
        :func:`talkinghead.streaming.load_animator` of ``config.model``).

    Returns
    -------
    fastapi.FastAPI
        ``app.state.sessions`` (live sessions by id) and ``app.state.stats`` for inspection.
    """
    from fastapi import FastAPI, Request, WebSocket
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    from ..streaming import StreamingAnimator, load_animator

    cfg = config or ServeConfig()
    token = cfg.token
    if not is_loopback(cfg.host) and not token:
        raise InvalidArgumentError(
            f"host={cfg.host!r} is not a loopback address: a token is required (use resolve_token)"
        )
    if factory is None:
        factory = load_animator(cfg.model, fps=cfg.fps, lookahead_ms=cfg.lookahead_ms)
        if factory.kind == "sequence":
            import torch

            torch.set_num_threads(1)  # many small sessions: no intra-op threads
    from .admission import Admission, AdmissionConfig

    # startup_overhead: a session's whole marginal cost (socket, JSON, event loop and its batch
    # work) as a factor on its batch work, until measured (docs/streaming.md)
    admission = Admission(AdmissionConfig(budget=cfg.cpu_budget, max_lag_ms=cfg.max_lag_ms,
                                          enabled=cfg.admission, startup_overhead=STARTUP_OVERHEAD,
                                          process_cpu=True))  # fmt: skip
    if cfg.admission:
        # sessions are pushed in batches (serve/batching.py): the batch cost model's prior is
        # one session alone and ten together
        admission.calibrate(factory, fps=cfg.fps, lookahead_ms=0.0, streams=10)
    pool = ThreadPoolExecutor(max_workers=cfg.workers, thread_name_prefix="talkinghead-serve")

    batcher = PushBatcher(pool, min_interval_s=cfg.batch_interval_ms / 1000.0,
                          on_batch=admission.record_batch)  # fmt: skip
    stats = _Stats()
    sessions: dict[int, dict] = {}
    per_ip: Counter = Counter()
    next_id = iter(range(1, 1 << 62))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="talkinghead", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.sessions, app.state.stats, app.state.config = sessions, stats, cfg
    _guard(app, cfg, stats)  # Host and Origin checks (security.py)
    app.state.animator = getattr(factory, "name", "custom")
    app.state.admission = admission
    app.state.batcher = batcher
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def authorised(given: str | None) -> bool:
        return token is None or (
            isinstance(given, str)
            and secrets.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))
        )

    @app.get("/")
    async def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/head.json")
    async def head_json():
        from fastapi.responses import Response

        from .head_web import head_payload

        return Response(head_payload(), media_type="application/json")

    @app.get("/health")
    async def health():
        return {
            "status": "ok",
            "animator": getattr(factory, "name", "custom"),
            "sessions": len(sessions),
            "frames": stats.frames,
            "compute_ms": stats._summary(stats.compute_ms),
            "admission": admission.summary(),
            "batching": batcher.summary(),
        }

    @app.get("/stats")
    async def get_stats(request: Request):
        given = request.query_params.get("token")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:]
        if not authorised(given):
            return JSONResponse({"error": "token required"}, status_code=401)
        now = time.monotonic()
        live = [
            {"id": k, "seconds": round(now - s["start"], 1), "frames": s["frames"]}
            for k, s in sessions.items()
        ]
        return {**stats.summary(), "limits": _limits(cfg), "sessions": live}

    pending: Counter = Counter()  # sockets that have not authenticated yet, per address

    @app.websocket("/ws")
    async def ws_endpoint(ws: WebSocket):
        await ws.accept()
        ip = ws.client.host if ws.client else "?"
        # pre-auth: the config (and token) first; only then is this a session
        if pending[ip] >= cfg.max_pending_per_ip:
            return await _close(ws, 1013, "too many unauthenticated connections", stats)
        pending[ip] += 1
        try:
            msg = await preauth(ws, cfg.first_message_timeout_s, authorised)
        except ConfigRefused as e:
            return await _close(ws, e.code, e.message, stats)
        finally:
            pending[ip] -= 1
            if pending[ip] <= 0:
                del pending[ip]
        if msg is None:
            stats.closes["disconnect"] += 1
            return
        if len(sessions) >= cfg.max_sessions:
            return await _close(ws, 1013, f"server full: {cfg.max_sessions} sessions", stats)
        if per_ip[ip] >= cfg.max_sessions_per_ip:
            return await _close(
                ws, 1013, f"too many sessions from this address (max {cfg.max_sessions_per_ip})",
                stats,
            )  # fmt: skip
        sid = next(next_id)
        sess = {"start": time.monotonic(), "frames": 0, "ip": ip, "id": sid}
        sessions[sid] = sess
        per_ip[ip] += 1
        stats.sessions_total += 1
        try:
            code, reason = await _session(ws, sess, msg)
        except _ClientError as e:
            code, reason = e.code, e.message
        except Exception as e:  # never leak a session on an unexpected error
            code, reason = 1011, f"internal error: {type(e).__name__}"
        finally:
            sessions.pop(sid, None)
            admission.close(sid)
            per_ip[ip] -= 1
            if per_ip[ip] <= 0:
                del per_ip[ip]
        if code is not None:
            await _close(ws, code, reason, stats)
        else:
            stats.closes["disconnect"] += 1

    async def _session(ws: WebSocket, sess: dict, msg: dict):
        """Run one session (``msg``: its authenticated config); returns (close code,
        reason), or (None, None) on disconnect.

        Three parts: the receiver (this socket's messages -> the batcher's
        :class:`~talkinghead.serve.batching.Stream`), ``deliver`` (a batch's frames -> the
        send queue, as JSON text) and the sender (the queue -> the socket)."""
        loop = asyncio.get_running_loop()
        try:
            sc = parse_session_config(msg, cfg)
            make = factory if sc["seed"] is None else functools.partial(factory, seed=sc["seed"])
            an, setup_cpu = await loop.run_in_executor(
                pool, _thread_cpu, make, sc["fps"], sc["lookahead_ms"]
            )
            admission.record_setup(setup_cpu)  # not a session's ongoing cost
            sa = StreamingAnimator(an, sample_rate=sc["sample_rate"], format=sc["format"])
        except TalkingHeadError as e:
            raise _ClientError(1008, str(e)) from None
        refuse = admission.check()
        if refuse is not None:
            raise _ClientError(1013, refuse)
        sid = sess["id"]
        admission.open(sid)
        algorithmic = float(sa.latency["algorithmic_ms"])
        await ws.send_text(
            json.dumps(
                {
                    "type": "ready",
                    "animator": an.name,
                    "fps": sa.fps,
                    "sample_rate": sc["sample_rate"],
                    "format": sc["format"],
                    "latency": sa.latency,
                    "limits": _limits(cfg),
                    "sketch": _sketch_info(),
                }
            )
        )
        in_rate, fmt = sc["sample_rate"], sc["format"]
        sample_bytes = 4 if fmt == "f32" else 2
        limit = cfg.send_queue_frames
        out: deque = deque()  # (put time, compute_ms, JSON text up to its queue_ms value)
        wake = asyncio.Event()  # the sender's: something to send
        failed = loop.create_future()  # (code, reason) when the session's audio failed

        def emit(frames, compute_ms: float) -> None:
            if not frames:
                return
            heard_ms = 1000.0 * sa.pcm.samples_in / in_rate
            now = time.perf_counter()
            for f in frames:
                audio_ms = heard_ms - 1000.0 * f.time
                out.append((now, compute_ms, frame_text(f, algorithmic, audio_ms, compute_ms)))
                stats.audio_ms.append(audio_ms)
            sess["frames"] += len(frames)
            stats.frames += len(frames)
            stats.compute_ms.append(compute_ms)
            wake.set()
            if len(out) >= limit:  # the client does not keep up: stop pushing its audio
                st.held = True

        def deliver(r, share: float, n_bytes: int, t_first: float) -> None:
            if isinstance(r, BaseException):
                if not failed.done():
                    code = 1003 if isinstance(r, InvalidArgumentError) else 1011
                    text = str(r) if code == 1003 else f"internal error: {type(r).__name__}"
                    failed.set_result((code, text))
                st.closed = True
                return
            t0 = time.perf_counter()
            admission.record_work(sid, share, n_bytes / sample_bytes / in_rate)
            emit(r, 1000.0 * (t0 - t_first))
            # the event loop's share of the session's cost (JSON), for admission control
            admission.record_work(sid, time.perf_counter() - t0, 0.0)

        st = Stream(sa, deliver, bytes_per_s=sample_bytes * in_rate)

        async def receiver():
            """Returns (None, None) on disconnect, "end" after the end message's frames are
            queued; raises _ClientError."""
            while True:
                m = await ws.receive()
                if m["type"] == "websocket.disconnect":
                    return None, None
                if time.monotonic() - sess["start"] > cfg.max_session_s:
                    raise _ClientError(1008, f"session longer than {cfg.max_session_s:g} s")
                data, text = m.get("bytes"), m.get("text")
                if data is not None:
                    if len(data) > cfg.max_message_bytes:
                        raise _ClientError(
                            1009, f"message of {len(data)} bytes exceeds {cfg.max_message_bytes}"
                        )
                    if len(data) % sample_bytes:  # each message whole samples, as documented
                        try:
                            pcm_to_float(data, fmt)
                        except InvalidArgumentError as e:
                            raise _ClientError(1003, str(e)) from None
                    # at most one message's worth of audio waits per session: a client that
                    # sends faster than its frames can go waits here (TCP back-pressure)
                    while st.n_bytes and st.n_bytes + len(data) > cfg.max_message_bytes:
                        st.room.clear()
                        try:
                            await asyncio.wait_for(st.room.wait(), cfg.send_timeout_s)
                        except TimeoutError:
                            if st.held:
                                raise _ClientError(
                                    1008, f"client too slow: {len(out)} frames unsent"
                                ) from None
                    if data:
                        batcher.add(st, data)
                    continue
                try:
                    msg = json.loads(text)
                except (TypeError, json.JSONDecodeError, RecursionError) as e:
                    raise _ClientError(1003, f"invalid JSON message: {e}") from None
                if not isinstance(msg, dict) or msg.get("type") != "end":
                    raise _ClientError(1003, "text messages after the config must be {type: end}")
                while not st.idle:  # the audio before the end message goes first
                    await asyncio.sleep(0.002)
                st.closed = True
                t0 = time.perf_counter()
                frames, end_cpu = await loop.run_in_executor(pool, _thread_cpu, sa.end)
                admission.record_setup(end_cpu)
                emit(frames, 1000.0 * (time.perf_counter() - t0))
                end = {"type": "end", "n_frames": sess["frames"],
                       "duration": sa.pcm.samples_in / in_rate}  # fmt: skip
                out.append((None, 0.0, json.dumps(end)))
                wake.set()
                return "end"

        async def sender():
            while True:
                while not out:
                    wake.clear()
                    await wake.wait()
                t_put, compute_ms, text = out.popleft()
                if t_put is None:
                    await ws.send_text(text)
                    return
                q_ms = 1000.0 * (time.perf_counter() - t_put)
                stats.queue_ms.append(q_ms)
                admission.record_lag(sid, q_ms + compute_ms)
                msg = f"{text}{round(q_ms, 3)!r}}}}}"
                if st.held:  # a client that does not read: give it send_timeout_s
                    try:
                        async with asyncio.timeout(cfg.send_timeout_s):
                            await ws.send_text(msg)
                    except TimeoutError:
                        if not failed.done():
                            failed.set_result((1008, f"client too slow: {len(out)} frames unsent"))
                        return
                else:
                    await ws.send_text(msg)
                if st.held and len(out) < limit:
                    st.held = False
                    batcher.offer(st)

        send_task = asyncio.create_task(sender())
        recv_task = asyncio.create_task(receiver())
        try:
            await asyncio.wait({recv_task, send_task, failed}, return_when=asyncio.FIRST_COMPLETED)
            if failed.done():
                return failed.result()
            if recv_task.done():
                res = recv_task.result()  # raises the session's _ClientError
                if res != "end":
                    return res
                try:
                    await send_task  # drain
                except Exception:  # the client left while we were sending
                    return None, None
                return 1000, "end of stream"
            return None, None  # the sender stopped first: the client is gone
        finally:
            st.closed = True
            for t in (recv_task, send_task):
                if not t.done():
                    t.cancel()

    return app


def _thread_cpu(fn, *args):
    """``fn(*args)`` and the CPU seconds of the thread that ran it."""
    c0 = time.thread_time()
    out = fn(*args)
    return out, time.thread_time() - c0


_LANDMARKS: dict = {}  # number of points -> template
_NAMED: dict = {}  # blendshape names -> template


def frame_text(frame, algorithmic_ms: float, audio_ms: float, compute_ms: float) -> str:
    """A frame's ``/ws`` message as JSON text up to its ``queue_ms`` value (the sender appends
    the value and ``}}``).

    The fields and precision of :meth:`~talkinghead.streaming.StreamFrame.to_json` (4
    decimals for landmarks, blendshapes, brow and blink; 5 for mouth_open and head_pose)
    plus ``type`` and ``latency``, written with one ``%`` template per field instead of a
    dict and ``json.dumps`` (a third of the cost; docs/streaming.md).
    """
    lm = frame.landmarks.ravel().tolist()
    n = len(lm) // 2
    t_lm = _LANDMARKS.get(n)
    if t_lm is None:
        t_lm = _LANDMARKS[n] = "[" + ",".join(["[%.4f,%.4f]"] * n) + "]"
    parts = [
        '{"type":"frame","index":%d,"t":%r,"landmarks":'  # noqa: UP031 (% is the fastest)
        % (frame.index, round(frame.time, 6)),
        t_lm % tuple(lm),
        ',"mouth_open":%.5f' % frame.mouth_open,  # noqa: UP031
    ]
    bs = frame.blendshapes
    if bs is not None:
        names = tuple(bs)
        t_bs = _NAMED.get(names)
        if t_bs is None:
            t_bs = _NAMED[names] = (
                ',"blendshapes":{'
                + ",".join(json.dumps(k).replace("%", "%%") + ":%.4f" for k in names)
                + "}"
            )
        parts.append(t_bs % tuple(bs.values()))
    if frame.head_pose is not None:
        hp = [float(v) for v in frame.head_pose]
        parts.append(',"head_pose":[' + ",".join("%.5f" % v for v in hp) + "]")  # noqa: UP031
    for k in ("brow", "blink"):
        v = getattr(frame, k)
        if v is not None:
            parts.append(',"%s":%.4f' % (k, v))  # noqa: UP031
    parts.append(
        ',"latency":{"algorithmic_ms":%r,"audio_ms":%r,"compute_ms":%r,"queue_ms":'  # noqa: UP031
        % (float(algorithmic_ms), round(float(audio_ms), 2), round(float(compute_ms), 3))
    )
    return "".join(parts)


def _guard(app, cfg: ServeConfig, stats: _Stats) -> None:
    """Wrap ``app`` in the Host/Origin check of :mod:`talkinghead.serve.security`."""
    from .security import AccessGuard, build_policy

    policy = build_policy(cfg.host, allow_origins=cfg.allow_origins, allow_hosts=cfg.allow_hosts)
    app.state.policy = policy
    app.add_middleware(AccessGuard, policy=policy,
                       on_refuse=lambda kind, why: stats.closes.update(["403"]))  # fmt: skip


def _sketch_info() -> dict:
    """Polylines and colours of :mod:`talkinghead.render.sketch`, for the browser page."""
    from ..face.landmarks68 import POLYLINES
    from ..render.sketch import SketchStyle, polyline_groups

    st = SketchStyle()
    rgb = lambda c: "rgb({},{},{})".format(*c)  # noqa: E731
    return {
        "polylines": [[list(idx), closed, col] for idx, closed, col in polyline_groups()],
        "colours": {
            k: rgb(getattr(st, k)) for k in ("background", "face", "lips", "mouth_inside", "eyes")
        },
        "thickness": st.thickness,
        "inner_lips": list(POLYLINES[-1][0]),
    }


def _limits(cfg: ServeConfig) -> dict:
    keys = ("max_message_bytes", "max_session_s", "max_sessions", "max_sessions_per_ip",
            "send_queue_frames")  # fmt: skip
    return {k: v for k, v in asdict(cfg).items() if k in keys}


async def _close(ws, code: int, reason: str, stats: _Stats) -> None:
    """Send an error message (not for a normal end) and close; ignore a gone client."""
    stats.closes[str(code)] += 1

    async def go():
        if code != 1000:
            await ws.send_text(json.dumps({"type": "error", "code": code, "message": reason}))
        await ws.close(code=code, reason=reason.encode()[:120].decode("utf-8", "ignore"))

    try:
        await asyncio.wait_for(go(), 5.0)  # a client that does not read must not block us
    except Exception:  # the client is gone already
        pass
