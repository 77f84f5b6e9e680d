"""The server cannot be borrowed: Host/Origin checks, token before session, pre-auth
timeout, and every malformed config closed with its documented code (never 1011/500)."""

from __future__ import annotations

import base64
import json
import os
import socket
import time

import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx is not installed")
ws_client = pytest.importorskip("websockets.sync.client", reason="websockets is not installed")
from test_server import LiveServer, expect_close  # noqa: E402  (tests/serve is on sys.path)
from websockets.exceptions import InvalidStatus  # noqa: E402

from talkinghead.errors import InvalidArgumentError  # noqa: E402
from talkinghead.serve.security import build_policy, normalize_origin  # noqa: E402


def handshake(port: int, host: str | None = None, origin: str | None = None, path="/ws"):
    """Open a WebSocket with exactly these headers; returns (status code, socket)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}",
             "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
             "Sec-WebSocket-Version: 13"]  # fmt: skip
    if origin is not None:
        lines.append(f"Origin: {origin}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1]), sock


def test_policy_rules():
    p = build_policy("127.0.0.1", allow_origins=["https://app.example.com"])
    assert p.host_problem("127.0.0.1:8000") is None and p.host_problem("[::1]:8000") is None
    assert p.host_problem("localhost:8000") is None and p.host_problem("LOCALHOST") is None
    assert "must name this server" in p.host_problem("evil.example:8000")
    assert "must be host[:port]" in p.host_problem("a b")
    same = "127.0.0.1:8000"
    assert p.origin_problem(None, same) is None  # not a browser
    assert p.origin_problem("http://127.0.0.1:8000", same) is None
    assert p.origin_problem("https://app.example.com", same) is None  # allowed explicitly
    for bad in ("http://evil.example", "http://127.0.0.1:8001", "null", "file://", "ftp://x"):
        assert "must be this server's page" in p.origin_problem(bad, same), bad
    assert normalize_origin("HTTPS://App.Example.com/") == "https://app.example.com:443"
    with pytest.raises(InvalidArgumentError, match="origin='app.example.com' must be like"):
        build_policy("127.0.0.1", allow_origins=["app.example.com"])
    with pytest.raises(InvalidArgumentError, match="--allow-host='x:80' must be"):
        build_policy("127.0.0.1", allow_hosts=["x:80"])
    assert build_policy("0.0.0.0", allow_hosts=["th.example"]).host_problem("th.example") is None


@pytest.fixture(scope="module")
def guarded():
    s = LiveServer(token="s3cret", allow_origins=("https://app.example.com",))
    yield s
    s.close()


def test_cross_site_pages_cannot_open_the_websocket(guarded):
    port = guarded.cfg.port
    for origin in ("http://evil.example", "null", f"http://localhost:{port + 1}"):
        status, sock = handshake(port, origin=origin)
        sock.close()
        assert status == 403, origin
    for origin in (f"http://127.0.0.1:{port}", "https://app.example.com", None):
        status, sock = handshake(port, origin=origin)
        sock.close()
        assert status == 101, origin
    with pytest.raises(InvalidStatus):
        ws_client.connect(guarded.ws + "?token=s3cret", origin="http://evil.example")
    with ws_client.connect(guarded.ws + "?token=s3cret", origin=guarded.http) as ws:
        ws.send(json.dumps({}))
        assert json.loads(ws.recv(timeout=10))["type"] == "ready"


def test_dns_rebinding_cannot_read_stats(guarded):
    url = guarded.http + "/stats?token=s3cret"
    assert httpx.get(url).status_code == 200
    assert httpx.get(url, headers={"Host": f"localhost:{guarded.cfg.port}"}).status_code == 200
    r = httpx.get(url, headers={"Host": f"rebind.evil.example:{guarded.cfg.port}"})
    assert r.status_code == 403 and "must name this server" in r.json()["error"]
    assert httpx.get(guarded.http + "/health", headers={"Host": "evil.example"}).status_code == 403
    r = httpx.get(guarded.http + "/", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    status, sock = handshake(guarded.cfg.port, host="rebind.evil.example")
    sock.close()
    assert status == 403


@pytest.mark.parametrize(
    "url_token, first, code, match",
    [
        (None, "[1, 2]", 1008, "JSON object"),
        (None, '"config"', 1008, "JSON object"),
        (None, "null", 1008, "JSON object"),
        (None, "[" * 100000 + "]" * 100000, 1003, "invalid JSON"),
        (None, json.dumps({"token": "s3crét"}), 1008, "valid token"),
        (None, json.dumps({"token": 5}), 1008, "token must be a string"),
        (None, json.dumps({"token": ["s3cret"]}), 1008, "token must be a string"),
        ("%C3%BCml%C3%A4ut", json.dumps({}), 1008, "valid token"),
        ("s3cret", json.dumps({"sample_rate": 10**400}), 1008, "sample_rate="),
        ("s3cret", json.dumps({"sample_rate": "16000"}), 1008, "sample_rate="),
        ("s3cret", json.dumps({"fps": None}), 1008, "fps=None"),
        ("s3cret", json.dumps({"format": ["f32"]}), 1008, "format="),
        ("s3cret", json.dumps({"type": {"a": 1}}), 1008, "type="),
        ("s3cret", json.dumps({"lookahead_ms": True}), 1008, "lookahead_ms=True"),
        ("s3cret", '{"fps": 1e999}', 1008, "fps=inf"),
    ],
)
def test_malformed_configs_get_the_documented_close(guarded, url_token, first, code, match):
    url = guarded.ws + (f"?token={url_token}" if url_token else "")
    with ws_client.connect(url, max_size=None) as ws:
        ws.send(first)
        expect_close(ws, code, match)
    assert "1011" not in httpx.get(guarded.http + "/stats?token=s3cret").json()["closes"]


def test_non_ascii_token_on_stats_is_401_not_500(guarded):
    assert httpx.get(guarded.http + "/stats?token=%C3%BC").status_code == 401
    r = httpx.get(guarded.http + "/stats", headers={"Authorization": "Bearer ünï".encode()})
    assert r.status_code == 401


def test_idle_unauthenticated_sockets_do_not_lock_out_a_token_holder():
    s = LiveServer(token="s3cret", max_sessions=2, max_sessions_per_ip=2,
                   first_message_timeout_s=1.0)  # fmt: skip
    idle = []
    try:
        for _ in range(8):  # more than both session limits, never authenticated
            status, sock = handshake(s.cfg.port)
            assert status == 101
            idle.append(sock)
        assert s.sessions() == 0
        with ws_client.connect(s.ws + "?token=s3cret") as ws:
            ws.send(json.dumps({}))
            assert json.loads(ws.recv(timeout=10))["type"] == "ready"
            assert s.sessions() == 1
        # the pre-auth time limit closes the idle ones (1008), well before 10 s
        t0 = time.monotonic()
        closes = httpx.get(s.http + "/stats?token=s3cret").json()["closes"]
        while closes.get("1008", 0) < 8 and time.monotonic() - t0 < 10:
            time.sleep(0.1)
            closes = httpx.get(s.http + "/stats?token=s3cret").json()["closes"]
        assert closes.get("1008", 0) == 8 and time.monotonic() - t0 < 5
    finally:
        for sock in idle:
            sock.close()
        s.close()


def test_unauthenticated_sockets_per_address_are_bounded():
    s = LiveServer(token="s3cret", max_pending_per_ip=3)
    socks = []
    try:
        for _ in range(3):
            socks.append(handshake(s.cfg.port)[1])
        time.sleep(0.2)
        with ws_client.connect(s.ws) as ws:
            expect_close(ws, 1013, "unauthenticated")
    finally:
        for sock in socks:
            sock.close()
        s.close()


def test_cli_flags_reach_the_policy():
    import argparse

    from talkinghead.cli.serve import build_config, register

    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="cmd"))
    args = p.parse_args(["serve", "--allow-origin", "https://a.example", "--allow-host", "th.lan"])
    cfg, _ = build_config(args)
    assert cfg.allow_origins == ("https://a.example",) and cfg.allow_hosts == ("th.lan",)
    with pytest.raises(InvalidArgumentError, match="must be like"):
        build_config(p.parse_args(["serve", "--allow-origin", "a.example"]))
    from talkinghead.errors import CheckpointError

    with pytest.raises(CheckpointError, match="--model='/no/such/model' must be a model"):
        build_config(p.parse_args(["serve", "--model", "/no/such/model"]))  # before torch
    for name in ("energy", "default"):
        assert build_config(p.parse_args(["serve", "--model", name]))[0].model == name
