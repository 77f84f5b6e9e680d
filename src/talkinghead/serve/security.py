"""Who may talk to ``talkinghead serve``: Host and Origin checks, and the pre-auth step.

- **Host** (DNS rebinding): a request's ``Host`` header must name the server by an IP
  address, ``localhost``, this machine's names, or a name given with ``--allow-host``.
  A web page whose domain was re-pointed at 127.0.0.1 sends its own domain name, and
  is refused with 403 (HTTP) or a refused WebSocket handshake.
- **Origin** (cross-site WebSocket hijacking): when a browser sends ``Origin``, it must
  be the server's own origin (same scheme-less host and port as ``Host``) or one given
  with ``--allow-origin``; ``Origin: null`` (sandboxed frames, files) is refused.
  Clients that send no ``Origin`` (scripts, ``websockets``, ``curl``) are not browsers
  and pass this check; the token is what limits them.
- **Pre-auth**: a WebSocket must send its config (with the token, or ``?token=``) within
  ``preauth_timeout_s``; sockets that have not authenticated are not sessions, so they
  never count against ``max_sessions`` (they are limited separately, per address).

Everything here is plain functions over header strings plus one small ASGI middleware
(:class:`AccessGuard`), so that :mod:`talkinghead.serve.app` only wires it in.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import InvalidArgumentError

__all__ = [
    "AccessPolicy",
    "AccessGuard",
    "build_policy",
    "normalize_origin",
    "config_message",
    "preauth",
    "ConfigRefused",
]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``host[:port]`` (``[v6]:port`` too) -> (lower-case host, port); None if malformed."""
    value = value.strip().lower()
    if not value or any(c.isspace() for c in value) or "/" in value or "@" in value:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:] if rest else None
    elif value.count(":") == 1:
        host, port = value.split(":")
    elif ":" in value:  # a bare IPv6 address
        host, port = value, None
    else:
        host, port = value, None
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return None
        port = int(port)
    return (host.rstrip("."), port) if host else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalize_origin(origin: str) -> str:
    """``scheme://host:port`` of an origin (default port made explicit, lower case).

    Raises
    ------
    InvalidArgumentError
        Not an ``http(s)://host[:port]`` origin.
    """
    try:
        u = urlsplit(origin.strip())
        port = u.port
    except ValueError:
        u, port = None, None
    if u is None or u.scheme not in ("http", "https") or not u.hostname or u.path not in ("", "/"):
        raise InvalidArgumentError(
            f"origin={origin!r} must be like http://host:port or https://host (no path)"
        )
    host = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
    return f"{u.scheme}://{host.lower()}:{port or _DEFAULT_PORTS[u.scheme]}"


def _machine_names() -> set[str]:
    names = {"localhost"}
    try:
        h = socket.gethostname().lower()
        names |= {h, f"{h}.local", h.split(".")[0]}
    except OSError:  # pragma: no cover
        pass
    return names


@dataclass(frozen=True)
class AccessPolicy:
    """What :class:`AccessGuard` lets through (see the module docstring).

    Attributes
    ----------
    hosts : frozenset of str
        Host names accepted in ``Host`` besides IP addresses (lower case, no port).
    origins : frozenset of str
        Origins accepted besides the server's own (normalised, see
        :func:`normalize_origin`); ``"*"`` accepts any.
    """

    hosts: frozenset = frozenset()
    origins: frozenset = frozenset()

    def host_problem(self, host_header: str | None) -> str | None:
        """Why ``Host`` is refused, or None."""
        if host_header is None:
            return None  # HTTP/1.0 clients; a browser always sends Host
        parts = _split_host(host_header)
        if parts is None:
            return f"Host={host_header!r} must be host[:port]"
        host = parts[0]
        if _is_ip(host) or host in self.hosts or "*" in self.hosts:
            return None
        return (
            f"Host={host_header!r} must name this server (an IP address, localhost or "
            "a name given with --allow-host)"
        )

    def origin_problem(self, origin: str | None, host_header: str | None) -> str | None:
        """Why ``Origin`` is refused, or None (absent: not a browser)."""
        if origin is None:
            return None
        if "*" in self.origins:
            return None
        try:
            norm = normalize_origin(origin)
        except InvalidArgumentError:
            return f"Origin={origin!r} must be this server's page or one of --allow-origin"
        if norm in self.origins:
            return None
        u = urlsplit(norm)
        own = _split_host(host_header or "")
        if own is not None:
            own_port = own[1] or _DEFAULT_PORTS.get(u.scheme)
            if u.hostname == own[0].strip("[]") and u.port == own_port:
                return None
        return f"Origin={origin!r} must be this server's page or one of --allow-origin"


def build_policy(
    bind_host: str, *, allow_origins: Iterable[str] = (), allow_hosts: Iterable[str] = ()
) -> AccessPolicy:
    """The policy of a server bound to ``bind_host`` with the user's extra origins/hosts.

    Raises
    ------
    InvalidArgumentError
        A malformed ``--allow-origin`` or ``--allow-host``.
    """
    origins = set()
    for o in allow_origins:
        origins.add("*" if o.strip() == "*" else normalize_origin(o))
    hosts = _machine_names()
    for h in allow_hosts:
        parts = _split_host(h) if h.strip() != "*" else ("*", None)
        if parts is None or parts[1] is not None:
            raise InvalidArgumentError(f"--allow-host={h!r} must be a host name without port")
        hosts.add(parts[0])
    b = bind_host.strip("[]").lower()
    if b and not _is_ip(b):
        hosts.add(b)  # bound by name (e.g. --host myhost.lan)
    return AccessPolicy(hosts=frozenset(hosts), origins=frozenset(origins))


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


class AccessGuard:
    """ASGI middleware: refuse HTTP requests (403) and WebSocket handshakes whose
    ``Host`` or ``Origin`` the :class:`AccessPolicy` does not accept."""

    def __init__(self, app, policy: AccessPolicy, on_refuse=None) -> None:
        self.app, self.policy, self.on_refuse = app, policy, on_refuse

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        h = _headers(scope)
        problem = self.policy.host_problem(h.get("host")) or self.policy.origin_problem(
            h.get("origin"), h.get("host")
        )
        if problem is None:
            return await self.app(scope, receive, send)
        if self.on_refuse is not None:
            self.on_refuse(scope["type"], problem)
        if scope["type"] == "websocket":  # before accept: the handshake gets HTTP 403
            return await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
        body = json.dumps({"error": problem}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class ConfigRefused(Exception):  # noqa: N818 - carries a close code, like _ClientError
    """The first message cannot be used: ``code`` is the WebSocket close code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def config_message(first: dict, url_token: str | None, authorised) -> dict | None:
    """The config of a WebSocket's first ASGI message, authenticated, or None (gone).

    ``authorised(token) -> bool`` checks a token. Every malformed message ends in a
    :class:`ConfigRefused` with the documented close code, never an internal error:
    binary or missing text 1008, invalid JSON 1003, not a JSON object 1008, a token
    that is not a string or not valid 1008.
    """
    if first["type"] == "websocket.disconnect":
        return None
    text = first.get("text")
    if text is None:
        raise ConfigRefused(1008, "the first message must be a JSON text config")
    try:
        msg = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ConfigRefused(1003, f"invalid JSON in the config message: {e}") from None
    if not isinstance(msg, dict):
        raise ConfigRefused(
            1008, f"the config must be a JSON object, not {type(msg).__name__} (the first message)"
        )
    token = url_token if url_token is not None else msg.get("token")
    if token is not None and not isinstance(token, str):
        raise ConfigRefused(1008, f"token must be a string, not {type(token).__name__}")
    if not authorised(token):
        raise ConfigRefused(1008, "a valid token is required (?token=... or 'token' key)")
    return msg


async def preauth(ws, timeout_s: float, authorised) -> dict | None:
    """Read a WebSocket's first message within ``timeout_s`` and authenticate it.

    Returns the config dict, or None when the client left first; raises
    :class:`ConfigRefused` (1008 on the timeout, see :func:`config_message`).
    """
    import asyncio

    try:
        first = await asyncio.wait_for(ws.receive(), timeout_s)
    except TimeoutError:
        raise ConfigRefused(
            1008, f"no config message within {timeout_s:g} s (the pre-auth time limit)"
        ) from None
    return config_message(first, ws.query_params.get("token") or None, authorised)
