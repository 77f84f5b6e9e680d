"""CLI command ``talkinghead serve``: the real-time WebSocket server and its browser page.

``register(subparsers)`` adds it to the main parser (the handler returns an exit code and
raises :class:`~talkinghead.errors.TalkingHeadError` subclasses on bad input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import DependencyError
from .args import float_in, int_in

__all__ = ["register", "cmd_serve", "build_config", "describe_animator"]


_PORT = int_in(0, 65535)
_LOOKAHEAD_MS = float_in(0.0, 200.0)


def register(subparsers) -> None:
    """Add ``serve`` to an argparse subparsers object."""
    s = subparsers.add_parser(
        "serve",
        help="real-time server: stream speech over a WebSocket, get face frames back",
        description="Serve /ws (streaming speech -> 68-point face frames, JSON), /health, "
        "/stats and a browser page at / that animates a face from the microphone or an "
        "audio file. Binds 127.0.0.1 unless --host is given; any other address requires a "
        "token (given with --token, or generated and printed) that clients send as "
        "?token=... . Browser pages of other origins and unknown Host names are refused "
        "(--allow-origin, --allow-host; docs/security.md). The animator is the shipped streaming "
        "mouth v2 (data/mouth_v2_causal: six mouth DOFs, brows, blinks, head pose, all 52 "
        "blendshapes; one causal checkpoint per look-ahead, picked per session), or --model DIR "
        "(a causal checkpoint) or --model energy (model-free); a missing model is an error.",
    )
    s.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
    s.add_argument("--port", type=_PORT, default=8000, help="TCP port (8000; 0 = any free)")
    s.add_argument("--token", help="shared secret clients must send (required off loopback)")
    s.add_argument(
        "--model",
        metavar="DIR",
        help="'default' (the shipped streaming mouth v2), 'energy' (model-free), "
        "or a causal checkpoint folder (e.g. src/talkinghead/data/default_causal, the "
        "previously streamed model)",
    )
    s.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept browser pages from ORIGIN (e.g. https://app.example.com; repeat; "
        "'*' for any). Default: only the server's own page",
    )
    s.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept requests addressed to host NAME (a reverse proxy's name; repeat). "
        "Default: IP addresses, localhost and this machine's name (DNS-rebinding guard)",
    )
    s.add_argument(
        "--lookahead-ms",
        type=_LOOKAHEAD_MS,
        default=40.0,
        help="look-ahead of sessions that do not ask for one, 0-200 ms (40)",
    )
    s.set_defaults(func=cmd_serve)


def build_config(args: argparse.Namespace):
    """The :class:`~talkinghead.serve.app.ServeConfig` of parsed arguments, and whether
    its token was generated (off-loopback bind without ``--token``)."""
    from ..serve.app import ServeConfig, resolve_token

    token, generated = resolve_token(args.host, args.token)
    cfg = ServeConfig(
        host=args.host,
        port=args.port,
        token=token,
        model=args.model,
        lookahead_ms=args.lookahead_ms,
        allow_origins=tuple(args.allow_origin),
        allow_hosts=tuple(args.allow_host),
    )
    from ..serve.security import build_policy

    build_policy(cfg.host, allow_origins=cfg.allow_origins, allow_hosts=cfg.allow_hosts)
    named = args.model in (None, "default", "energy")  # the shipped model, the model-free one
    if not named and not (Path(args.model) / "config.json").is_file():
        from ..errors import CheckpointError

        raise CheckpointError(  # before importing torch (seconds)
            f"--model={args.model!r} must be a model checkpoint folder (with config.json)"
        )
    return cfg, generated


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401
        from fastapi import FastAPI  # noqa: F401
    except ImportError as e:
        raise DependencyError(
            f"talkinghead serve needs fastapi and uvicorn ({e}); "
            "install them with: pip install 'talkinghead[serve]'"
        ) from None
    import uvicorn

    from ..serve.app import create_app, uvicorn_options

    cfg, generated = build_config(args)
    app = create_app(cfg)
    shown = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    url = f"http://{shown}:{cfg.port}/" + (f"?token={cfg.token}" if cfg.token else "")
    if generated:
        print(f"talkinghead serve: generated access token: {cfg.token}", file=sys.stderr)
    print(f"talkinghead serve: {describe_animator(app)}; open {url}", file=sys.stderr)
    # the size limit (larger messages get a clean 1009 from the app), no permessage-deflate
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level="warning", **uvicorn_options(cfg))
    return 0


def describe_animator(app) -> str:
    """The startup line's animator part: the animator really in use, and its look-ahead."""
    name = getattr(app.state, "animator", "custom")
    la = app.state.config.lookahead_ms
    if name == "energy":
        return f"animator energy (model-free, look-ahead {la:g} ms)"
    return f"animator {name} (default look-ahead {la:g} ms)"
