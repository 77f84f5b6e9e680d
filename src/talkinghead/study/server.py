"""The study in the browser (``talkinghead study serve``): a FastAPI app and its page.

Routes
------
``GET /``                          the keyboard-driven page (``static/study.html``)
``POST /api/sessions``             ``{"rater": name}`` -> a new session ``{"session", ...}``
``GET /api/sessions/{session}``    resume: the session's progress and its next item
``POST /api/answers``              ``{"session", "item", "response", "rt_ms"}`` -> next item
``GET /media/{file}``              a blinded video (only the files of the manifest)
``GET /health``                    ``{"ok": true, "items": n, "sessions": n}``

One session is one rater (the name given at its start). Its items come in an order
seeded by the study seed and the session id: the A/B pairs first, then the MOS items.
Each answer is appended to ``answers.jsonl`` with :func:`~.store.append_jsonl` (one
``write``, ``flock``, ``fsync``); a second answer to the same item of a session is
refused (409), so a reload or a double key press cannot count twice. Sessions are
appended to ``sessions.jsonl``; both files are read back at start, so a restarted server
resumes every session where it stopped.

The page never learns which system made a video: items carry their id, kind, question
and media URLs (random tokens), never the manifest's system names.
"""

# no ``from __future__ import annotations``: FastAPI reads the handlers' annotations
# (``request: Request``, imported inside create_study_app) at definition time

import os
import random
import re
import secrets
import threading
import time
from pathlib import Path

from ..errors import DependencyError, InvalidArgumentError
from .manifest import Study, load_study
from .store import append_jsonl, read_jsonl

__all__ = ["StudyState", "create_study_app", "STATIC"]

STATIC = Path(__file__).resolve().parent / "static"
_SESSION_RE = re.compile(r"^[0-9a-f]{32}$")
_MAX_RATER = 80


class StudyState:
    """Sessions and answers of a study, in memory and on disk (thread-safe)."""

    def __init__(self, study: Study, *, answers_path=None, sessions_path=None) -> None:
        self.study = study
        self.answers_path = Path(answers_path or study.root / "answers.jsonl")
        self.sessions_path = Path(sessions_path or study.root / "sessions.jsonl")
        self._lock = threading.Lock()
        self.items = {it["item"]: it for it in study.items}
        self.media = {m["file"] for it in study.items for m in it["media"]}
        self.sessions: dict[str, dict] = {}
        for rec in read_jsonl(self.sessions_path):
            if _SESSION_RE.match(str(rec.get("session", ""))):
                self.sessions[rec["session"]] = rec
        self.done: dict[str, set[str]] = {s: set() for s in self.sessions}
        for rec in read_jsonl(self.answers_path):
            if rec.get("session") in self.done and rec.get("item") in self.items:
                self.done[rec["session"]].add(rec["item"])

    # -- sessions
    def order(self, session: str) -> list[str]:
        """The item order of a session: A/B pairs, then MOS items, each block shuffled
        with a generator seeded by the study seed and the session id."""
        rng = random.Random(f"{self.study.settings.get('seed', 0)}:{session}")
        out = []
        for kind in ("ab", "mos"):
            ids = [it["item"] for it in self.study.items if it["kind"] == kind]
            rng.shuffle(ids)
            out += ids
        return out

    def new_session(self, rater: str) -> dict:
        rater = str(rater).strip()
        if not rater or len(rater) > _MAX_RATER or any(ord(c) < 32 for c in rater):
            raise InvalidArgumentError(
                f"rater={rater!r} must be a name of 1-{_MAX_RATER} printable characters"
            )
        rec = {"session": secrets.token_hex(16), "rater": rater, "created": time.time()}
        with self._lock:
            append_jsonl(self.sessions_path, rec)
            self.sessions[rec["session"]] = rec
            self.done[rec["session"]] = set()
        return self.progress(rec["session"])

    def _session(self, session: str) -> dict:
        rec = self.sessions.get(str(session))
        if rec is None:
            raise KeyError(session)
        return rec

    def public_item(self, item_id: str) -> dict:
        it = self.items[item_id]
        q = self.study.settings.get("questions", {})
        return {
            "item": it["item"],
            "kind": it["kind"],
            "question": q.get(it["kind"], ""),
            "media": ["/media/" + m["file"] for m in it["media"]],
        }

    def progress(self, session: str) -> dict:
        rec = self._session(session)
        order = self.order(session)
        done = self.done[session]
        nxt = next((i for i in order if i not in done), None)
        return {
            "session": session,
            "rater": rec["rater"],
            "total": len(order),
            "answered": len(done),
            "next": None if nxt is None else {**self.public_item(nxt), "position": len(done)},
        }

    def answer(self, session: str, item: str, response, rt_ms=None) -> dict:
        rec = self._session(session)
        if item not in self.items:
            raise InvalidArgumentError(f"item={item!r} must be an item of the study")
        kind = self.items[item]["kind"]
        if kind == "ab":
            if response not in ("A", "B"):
                raise InvalidArgumentError(f"response={response!r} must be 'A' or 'B'")
        else:
            if isinstance(response, bool) or response not in (1, 2, 3, 4, 5):
                raise InvalidArgumentError(f"response={response!r} must be 1, 2, 3, 4 or 5")
        if rt_ms is not None:
            try:
                rt_ms = float(rt_ms)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"rt_ms={rt_ms!r} must be a number") from None
            if not 0 <= rt_ms < 1e8:
                rt_ms = None
        with self._lock:
            if item in self.done[session]:
                raise FileExistsError(item)
            append_jsonl(
                self.answers_path,
                {
                    "session": session,
                    "rater": rec["rater"],
                    "item": item,
                    "kind": kind,
                    "response": response,
                    "rt_ms": rt_ms,
                    "time": time.time(),
                },
            )
            self.done[session].add(item)
        return self.progress(session)


def create_study_app(study_dir: str | os.PathLike, *, answers_path=None, sessions_path=None):
    """The FastAPI app serving a study folder (see the module docstring).

    Parameters
    ----------
    study_dir : path
        Written by :func:`~.manifest.make_study`.
    answers_path, sessions_path : path, optional
        Default ``study_dir/answers.jsonl`` and ``study_dir/sessions.jsonl``.

    Returns
    -------
    fastapi.FastAPI
        ``app.state.study`` is the :class:`StudyState`.

    Raises
    ------
    DependencyError
        fastapi is not installed (``pip install 'talkinghead[serve]'``).
    """
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import FileResponse, JSONResponse
    except ImportError as e:
        raise DependencyError(
            f"study serve needs fastapi and uvicorn (pip install 'talkinghead[serve]'): {e}"
        ) from None
    state = StudyState(
        load_study(study_dir), answers_path=answers_path, sessions_path=sessions_path
    )
    app = FastAPI(title="talkinghead study", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.study = state
    from ..serve.security import AccessGuard, build_policy

    # as `talkinghead serve`: no other site's page may post answers or read the study
    # through the rater's browser (Origin), no re-bound domain name (Host)
    app.add_middleware(AccessGuard, policy=build_policy("127.0.0.1"))
    nocache = {"Cache-Control": "no-store"}

    def err(status: int, msg: str):
        return JSONResponse({"error": msg}, status_code=status, headers=nocache)

    async def body(request: Request) -> dict:
        try:
            data = await request.json()
        except ValueError:
            raise InvalidArgumentError("the request body must be a JSON object") from None
        if not isinstance(data, dict):
            raise InvalidArgumentError("the request body must be a JSON object")
        return data

    @app.get("/")
    def index():
        return FileResponse(STATIC / "study.html", headers=nocache)

    @app.get("/health")
    def health():
        return {"ok": True, "items": len(state.items), "sessions": len(state.sessions)}

    @app.post("/api/sessions")
    async def new_session(request: Request):
        try:
            data = await body(request)
            return JSONResponse(state.new_session(data.get("rater", "")), headers=nocache)
        except InvalidArgumentError as e:
            return err(400, str(e))

    @app.get("/api/sessions/{session}")
    def get_session(session: str):
        try:
            return JSONResponse(state.progress(session), headers=nocache)
        except KeyError:
            return err(404, f"session={session!r} is not a session of this study")

    @app.post("/api/answers")
    async def answer(request: Request):
        try:
            data = await body(request)
            res = state.answer(
                str(data.get("session", "")),
                str(data.get("item", "")),
                data.get("response"),
                data.get("rt_ms"),
            )
            return JSONResponse(res, headers=nocache)
        except KeyError:
            return err(404, "session= must be a session of this study")
        except FileExistsError:
            return err(409, "this item was already answered in this session")
        except InvalidArgumentError as e:
            return err(400, str(e))

    @app.get("/media/{name}")
    def media(name: str):
        if name not in state.media:
            return err(404, f"file={name!r} is not a video of this study")
        return FileResponse(state.study.media_dir / name, headers={"Cache-Control": "no-store"})

    return app
