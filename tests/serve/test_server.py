"""The WebSocket server over a real uvicorn on 127.0.0.1 (free port, background thread)."""

from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx is not installed")
ws_client = pytest.importorskip("websockets.sync.client", reason="websockets is not installed")
from websockets.exceptions import ConnectionClosed  # noqa: E402

from talkinghead.audio.features import n_frames_for  # noqa: E402
from talkinghead.errors import InvalidArgumentError  # noqa: E402
from talkinghead.serve.app import (  # noqa: E402
    ServeConfig,
    create_app,
    frame_text,
    is_loopback,
    resolve_token,
    uvicorn_options,
)
from talkinghead.streaming import EnergyAnimator, StreamingAnimator  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real server on a free port; admission control is off unless asked for (on a loaded
    test machine it would rightly refuse sessions; tests/serve/test_admission.py tests it)."""

    def __init__(self, **kw) -> None:
        kw.setdefault("admission", False)
        self.cfg = ServeConfig(port=free_port(), **kw)
        self.app = create_app(self.cfg)
        conf = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.cfg.port,
            log_level="error",
            **uvicorn_options(self.cfg),
        )
        self.server = uvicorn.Server(conf)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            assert time.monotonic() - t0 < 20, "server did not start"
            time.sleep(0.02)
        self.http = f"http://127.0.0.1:{self.cfg.port}"
        self.ws = f"ws://127.0.0.1:{self.cfg.port}/ws"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def sessions(self) -> int:
        return httpx.get(self.http + "/health").json()["sessions"]


@pytest.fixture(scope="module")
def server():
    """The energy animator (asked for by name): exact offline references, cheap."""
    s = LiveServer(model="energy")
    yield s
    s.close()


@pytest.fixture(scope="module")
def speech_s16(example_speech):
    y, sr = sf.read(example_speech, dtype="int16")
    return y[: 2 * sr], sr  # 2.0 s at 22.05 kHz


def run_session(url, y, config, chunk_s=0.02):
    """Send config + audio in chunks + end; return (ready, frames, end message)."""
    frames = []
    with ws_client.connect(url, max_size=None) as ws:
        ws.send(json.dumps(config))
        ready = json.loads(ws.recv(timeout=10))
        assert ready["type"] == "ready", ready
        step = max(1, int(chunk_s * config["sample_rate"]))
        for i in range(0, len(y), step):
            ws.send(y[i : i + step].tobytes())
        ws.send(json.dumps({"type": "end"}))
        while True:
            m = json.loads(ws.recv(timeout=20))
            if m["type"] != "frame":
                break
            frames.append(m)
        with pytest.raises(ConnectionClosed) as ei:
            ws.recv(timeout=10)
        assert ei.value.rcvd.code == 1000
    return ready, frames, m


def expect_close(ws, code, match=""):
    """Read until the close; the last text message must be an error mentioning `match`."""
    last = None
    with pytest.raises(ConnectionClosed) as ei:
        while True:
            last = json.loads(ws.recv(timeout=10))
    assert ei.value.rcvd is not None and ei.value.rcvd.code == code, ei.value
    assert last is not None and last["type"] == "error" and match in last["message"], last


def test_health_and_page(server):
    h = httpx.get(server.http + "/health").json()
    assert h["status"] == "ok" and h["animator"] == "energy" and h["sessions"] == 0
    page = httpx.get(server.http + "/")
    assert page.status_code == 200 and "talkinghead" in page.text and "/static/app.js" in page.text
    js = httpx.get(server.http + "/static/app.js")
    assert js.status_code == 200 and "WebSocket" in js.text
    assert "max_sessions" in httpx.get(server.http + "/stats").json()["limits"]


def test_session_frames_match_duration_and_offline(server, speech_s16):
    y, sr = speech_s16
    cfg = {"sample_rate": sr, "format": "s16", "lookahead_ms": 40, "fps": 25}
    ready, frames, end = run_session(server.ws, y, cfg)
    n = n_frames_for(len(y) / sr, 25)
    assert n == 50
    assert [f["index"] for f in frames] == list(range(n)) and end["n_frames"] == n
    assert ready["latency"]["algorithmic_ms"] == pytest.approx(20 + 20 + 40)
    assert len(ready["sketch"]["polylines"]) == 9
    lat = frames[10]["latency"]
    assert set(lat) == {"algorithmic_ms", "audio_ms", "compute_ms", "queue_ms"}
    # the server's frames are the offline result (landmarks rounded to 1e-4 in JSON)
    ref = StreamingAnimator(EnergyAnimator(fps=25, lookahead_ms=40), sample_rate=sr, format="s16")
    ref = ref.offline(y.tobytes())
    lm = np.array([f["landmarks"] for f in frames])
    np.testing.assert_allclose(lm, ref.landmarks, atol=1e-4)
    mo = np.array([f["mouth_open"] for f in frames])
    assert mo.max() - mo.min() > 0.1  # the mouth moves
    stats = httpx.get(server.http + "/stats").json()
    assert stats["frames"] >= n and stats["compute_ms"]["n"] > 0


def test_two_concurrent_sessions(server, speech_s16):
    y, sr = speech_s16
    y16 = np.asarray(
        StreamingAnimator(EnergyAnimator(), sample_rate=sr, format="s16").pcm.offline(y)
    )
    jobs = [
        (y, {"sample_rate": sr, "format": "s16", "fps": 25}, 50),
        (y16[:24000], {"sample_rate": 16000, "format": "f32", "fps": 30, "lookahead_ms": 0}, 45),
    ]
    out = [None, None]

    def go(i):
        a, c, _ = jobs[i]
        out[i] = run_session(server.ws, a, c, chunk_s=0.05)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for (_, cfg, n), res in zip(jobs, out, strict=True):
        assert res is not None
        ready, frames, end = res
        assert ready["fps"] == cfg["fps"] and len(frames) == n == end["n_frames"]


@pytest.mark.parametrize(
    "first, then, code, match",
    [
        ("{not json", None, 1003, "invalid JSON"),
        (json.dumps({"sample_rate": 1000}), None, 1008, "sample_rate=1000"),
        (json.dumps({"format": "u8"}), None, 1008, "format='u8'"),
        (json.dumps({"lookahead_ms": 500}), None, 1008, "lookahead_ms=500"),
        (json.dumps({"colour": 1}), None, 1008, "unknown"),
        (b"\x00\x01", None, 1008, "JSON text config"),
        (json.dumps({"format": "s16"}), b"\x00\x01\x02", 1003, "multiple of 2"),
        (json.dumps({"format": "f32"}), b"\x00" * 6, 1003, "multiple of 4"),
        (json.dumps({}), "hello", 1003, "invalid JSON"),
        (json.dumps({}), json.dumps({"type": "pause"}), 1003, "type: end"),
        (json.dumps({}), np.full(8, np.nan, np.float32).tobytes(), 1003, "finite"),
    ],
)
def test_garbage_input_closes_cleanly(server, first, then, code, match):
    with ws_client.connect(server.ws) as ws:
        ws.send(first)
        if then is not None:
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
            ws.send(then)
        expect_close(ws, code, match)


def test_oversized_message_rejected(server):
    with ws_client.connect(server.ws, max_size=None) as ws:
        ws.send(json.dumps({"format": "s16"}))
        json.loads(ws.recv(timeout=10))
        ws.send(b"\x00" * ((1 << 20) + 2))
        expect_close(ws, 1009, "exceeds")


def test_disconnect_mid_stream_leaves_no_session(server, speech_s16):
    y, sr = speech_s16
    with ws_client.connect(server.ws) as ws:
        ws.send(json.dumps({"sample_rate": sr, "format": "s16"}))
        json.loads(ws.recv(timeout=10))
        ws.send(y[:8000].tobytes())
        assert server.sessions() == 1
        ws.socket.shutdown(socket.SHUT_RDWR)  # vanish without a close handshake
    t0 = time.monotonic()
    while server.sessions() and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    assert server.sessions() == 0


def test_token_logic_and_enforcement():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert resolve_token("127.0.0.1", None) == (None, False)
    tok, generated = resolve_token("0.0.0.0", None)
    assert generated and len(tok) >= 24
    assert resolve_token("0.0.0.0", "s3cret") == ("s3cret", False)
    with pytest.raises(InvalidArgumentError, match="token"):
        create_app(ServeConfig(host="0.0.0.0"))
    with pytest.raises(InvalidArgumentError, match="token"):
        resolve_token("0.0.0.0", "  ")
    create_app(ServeConfig(host="0.0.0.0", token=tok))  # built, never bound
    # a token set on a loopback server is enforced (query parameter or config key)
    s = LiveServer(token="s3cret")
    try:
        with ws_client.connect(s.ws) as ws:
            ws.send(json.dumps({"sample_rate": 16000}))
            expect_close(ws, 1008, "token")
        with ws_client.connect(s.ws + "?token=s3cret") as ws:
            ws.send(json.dumps({}))
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        with ws_client.connect(s.ws) as ws:
            ws.send(json.dumps({"token": "s3cret"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
        assert httpx.get(s.http + "/stats").status_code == 401
        assert httpx.get(s.http + "/stats?token=s3cret").status_code == 200
    finally:
        s.close()


def test_session_limits():
    s = LiveServer(max_sessions_per_ip=1)
    try:
        with ws_client.connect(s.ws) as a:
            a.send(json.dumps({}))
            json.loads(a.recv(timeout=10))
            with ws_client.connect(s.ws) as b:
                b.send(json.dumps({}))  # counted once authenticated (its config sent)
                expect_close(b, 1013, "too many sessions")
    finally:
        s.close()


def test_cli_parser_builds_config():
    import argparse

    from talkinghead.cli.serve import build_config, register

    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="cmd"))
    cfg, generated = build_config(p.parse_args(["serve"]))
    assert (cfg.host, cfg.port, cfg.token, generated) == ("127.0.0.1", 8000, None, False)
    args = p.parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--lookahead-ms", "80"])
    cfg, generated = build_config(args)
    assert generated and cfg.token and cfg.lookahead_ms == 80.0 and cfg.port == 9000
    with pytest.raises(SystemExit):
        p.parse_args(["serve", "--lookahead-ms", "300"])


def raw_ws(port: int) -> socket.socket:
    """A bare WebSocket client socket with a tiny receive buffer, that we never read."""
    import base64
    import os

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(3)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0]
    return sock


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (all-zero mask: the payload goes as is)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def test_slow_client_is_closed():
    """A client that never reads its frames is dropped; server memory stays bounded."""
    s = LiveServer(send_queue_frames=4, send_timeout_s=0.5)
    try:
        rng = np.random.default_rng(0)
        chunk = (rng.standard_normal(1 << 19) * 3000).astype(np.int16).tobytes()  # 1 MiB
        sock = raw_ws(s.cfg.port)
        sock.sendall(ws_frame(1, json.dumps({"format": "s16"}).encode()))
        try:
            for _ in range(8):  # ~4.5 min of audio: ~6.5k frames (~9 MB), more than TCP buffers
                sock.sendall(ws_frame(2, chunk))
        except OSError:  # the server gave up on us
            pass
        t0 = time.monotonic()
        while s.sessions() and time.monotonic() - t0 < 20:
            time.sleep(0.1)
        assert s.sessions() == 0
        assert httpx.get(s.http + "/stats").json()["closes"].get("1008", 0) == 1
        sock.close()
    finally:
        s.close()


def test_client_that_stops_reading_and_sending_is_closed():
    """Audio sent once, then silence both ways: the unsent frames time out (1008)."""
    s = LiveServer(send_queue_frames=4, send_timeout_s=0.5)
    try:
        rng = np.random.default_rng(1)
        chunk = (rng.standard_normal(1 << 19) * 3000).astype(np.int16).tobytes()  # 1 MiB
        sock = raw_ws(s.cfg.port)
        cfg = {"format": "s16", "sample_rate": 8000, "fps": 60}
        sock.sendall(ws_frame(1, json.dumps(cfg).encode()))
        sock.sendall(ws_frame(2, chunk))  # 65 s: ~3900 frames (~12 MB), more than TCP buffers
        t0 = time.monotonic()
        while s.sessions() and time.monotonic() - t0 < 20:
            time.sleep(0.1)
        assert s.sessions() == 0
        assert httpx.get(s.http + "/stats").json()["closes"].get("1008", 0) == 1
        sock.close()
    finally:
        s.close()


# ----------------------------------------------------------------------------- the default


def test_default_server_streams_the_learned_model(example_speech):
    """What `talkinghead serve` promises, checked through the real server: the startup
    line and /health name the learned model, `ready` says which, and the frames carry the
    whole face with a mouth that follows real speech."""
    from talkinghead.cli.serve import describe_animator
    from talkinghead.data import MOUTH_V2_CAUSAL_DIR
    from talkinghead.face.arkit import ARKIT_NAMES
    from talkinghead.streaming import load_animator

    if not (MOUTH_V2_CAUSAL_DIR / "la0" / "config.json").is_file():
        pytest.skip("the streaming mouth v2 is not shipped in this checkout")
    s = LiveServer()
    try:
        assert describe_animator(s.app).startswith("animator mouth-v2-causal")
        h = httpx.get(s.http + "/health").json()
        assert h["status"] == "ok" and h["animator"] == "mouth-v2-causal"
        y, sr = sf.read(example_speech, dtype="int16")
        cfg = {"sample_rate": sr, "format": "s16", "lookahead_ms": 80, "fps": 25}
        ready, frames, end = run_session(s.ws, y, cfg)
    finally:
        s.close()
    assert ready["animator"] == "mouth-v2-causal:80ms"
    assert ready["latency"]["algorithmic_ms"] == pytest.approx(80 + 22.5)
    n = n_frames_for(len(y) / sr, 25)
    assert [f["index"] for f in frames] == list(range(n)) and end["n_frames"] == n
    f = frames[20]
    assert list(f["blendshapes"]) == list(ARKIT_NAMES)
    assert len(f["head_pose"]) == 3 and 0 <= f["brow"] <= 1 and 0 <= f["blink"] <= 1
    # the server's frames are the learned model's offline output (JSON rounding)
    an = load_animator()(25, 80)
    ref = StreamingAnimator(an, sample_rate=sr, format="s16").offline(y.tobytes())
    np.testing.assert_allclose([f["landmarks"] for f in frames], ref.landmarks, atol=2e-4)
    bs = np.array([list(f["blendshapes"].values()) for f in frames])
    np.testing.assert_allclose(bs, ref.blendshapes, atol=2e-4)
    # the mouth follows the speech: it agrees with the offline mouth v2 (animate()'s default)
    # whose streaming counterpart it is
    from talkinghead.audio.io import load_audio
    from talkinghead.inference import animate

    off = animate(load_audio(example_speech, sr=16000)[0], sr=16000, fps=25)
    mo = np.array([f["mouth_open"] for f in frames])
    k = min(len(mo), len(off.mouth_open))
    assert np.corrcoef(mo[:k], off.mouth_open[:k])[0, 1] > 0.3  # measured 0.40 at 80 ms
    assert mo.max() - mo.min() > 0.05
    head = np.array([f["head_pose"] for f in frames])
    assert head.std(axis=0).min() > 1e-3  # the head moves


def test_missing_model_is_an_error_not_a_fallback(tmp_path):
    from talkinghead.cli import main
    from talkinghead.errors import CheckpointError
    from talkinghead.models.default import FAST_DIR

    with pytest.raises(CheckpointError, match="config.json"):
        create_app(ServeConfig(model=str(tmp_path / "missing")))
    with pytest.raises(CheckpointError, match="cannot stream"):
        create_app(ServeConfig(model=str(FAST_DIR)))
    assert main(["serve", "--model", str(tmp_path / "missing"), "--port", "0"]) == 2


def test_frame_text_is_the_frames_json():
    """The server's hand-written frame message parses to StreamFrame.to_json's fields (same
    rounding) plus type and latency, for the whole face and for the energy animator's."""
    from talkinghead.face.arkit import ARKIT_NAMES
    from talkinghead.streaming import StreamFrame

    rng = np.random.default_rng(3)
    bs = dict(zip(ARKIT_NAMES, rng.random(52).astype(np.float32).tolist(), strict=True))
    whole = StreamFrame(index=7, time=7 / 29.97, mouth_open=0.123456, ready_sample=1,
                        landmarks=rng.standard_normal((68, 2)).astype(np.float32), blendshapes=bs,
                        head_pose=rng.standard_normal(3).astype(np.float32) * 0.1, brow=0.25,
                        blink=-0.0)  # fmt: skip
    energy = StreamFrame(index=0, time=0.0, landmarks=np.zeros((68, 2), np.float32),
                         mouth_open=0.0, ready_sample=0)  # fmt: skip
    for f in (whole, energy):
        m = json.loads(frame_text(f, 22.5, 12.3456, 3.14159) + "0.5}}")
        ref = f.to_json()
        assert set(m) == {"type", "latency", *ref}
        assert m["type"] == "frame" and m["index"] == ref["index"] and m["t"] == ref["t"]
        np.testing.assert_allclose(m["landmarks"], ref["landmarks"], atol=1.01e-4)
        assert m["mouth_open"] == pytest.approx(ref["mouth_open"], abs=1.01e-5)
        for k in ("brow", "blink"):
            assert (k in m) == (k in ref) and m.get(k, 0) == pytest.approx(ref.get(k, 0), abs=1e-4)
        if "blendshapes" in ref:
            assert list(m["blendshapes"]) == list(ref["blendshapes"])
            np.testing.assert_allclose(list(m["blendshapes"].values()),
                                       list(ref["blendshapes"].values()), atol=1.01e-4)  # fmt: skip
            np.testing.assert_allclose(m["head_pose"], ref["head_pose"], atol=1.01e-5)
        assert m["latency"] == {"algorithmic_ms": 22.5, "audio_ms": 12.35, "compute_ms": 3.142,
                                "queue_ms": 0.5}  # fmt: skip
