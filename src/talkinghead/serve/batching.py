"""One model call per tick for all sessions: the server's push batcher.

Each session is a :class:`Stream`: its received audio waits there (the bytes of all the
messages that arrived since its last batch, in order) until the batcher takes it. The
batcher runs every stream that has audio waiting in ONE call of
:func:`talkinghead.streaming.push_batch` (the learned animators' trunk, network and face
read-out are batched over the sessions there; on the event loop's thread, see ``inline``),
one batch at a time, and starts the next batch as soon as the previous one is done (or
``min_interval_s`` after the previous one started): while a batch runs the next streams'
audio gathers, so the batch size follows the load by itself (one session: one item per
batch, no added wait; many sessions: more items per batch), and a session whose
messages arrived while a batch ran is pushed all its waiting audio at once (one item, not
one batch per message). Each stream gets its own frames (or its own error) through its ``deliver``
callback, with its share of the batch's time, which admission control counts as that
session's work. A stream that is ``held`` (its client does not read its frames) is not
pushed until it is released.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["PushBatcher", "Stream"]


class Stream:
    """One session's side of the batcher.

    Parameters
    ----------
    sa : talkinghead.streaming.StreamingAnimator
    deliver : callable
        ``deliver(result, share_s, n_bytes, t_first)`` on the event loop after each batch
        the stream was in: ``result`` its new frames (a list) or the exception its audio
        raised, ``share_s`` its share of the batch's time, ``n_bytes`` the audio bytes
        pushed, ``t_first`` the ``time.perf_counter()`` at which the first of them arrived.
    bytes_per_s : float
        Bytes of its audio per second (sample rate x sample size), for the batch's seconds of
        audio that ``on_batch`` reports (0: unknown, counted as 0 s).
    """

    __slots__ = ("sa", "deliver", "pending", "n_bytes", "t_first", "busy", "held", "closed",
                 "room", "bytes_per_s")  # fmt: skip

    def __init__(self, sa, deliver, bytes_per_s: float = 0.0) -> None:
        self.sa, self.deliver = sa, deliver
        self.bytes_per_s = float(bytes_per_s)  # of its audio (0: unknown)
        self.pending: list = []  # chunks not yet pushed
        self.n_bytes = 0
        self.t_first: float | None = None
        self.busy = False  # in the running batch
        self.held = False  # not pushed until released (its client does not read)
        self.closed = False
        self.room = asyncio.Event()  # set whenever the waiting audio is taken

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing running."""
        return not self.pending and not self.busy


class PushBatcher:
    """Gather sessions' audio and push it together (see the module docstring).

    Parameters
    ----------
    pool : concurrent.futures.Executor
        Where a batch runs when not ``inline``.
    max_items : int
        Largest batch (the rest waits for the next one).
    min_interval_s : float
        A batch starts at least this long after the previous one started (default 0: as
        soon as audio is waiting and no batch runs). With many sessions whose 20 ms chunks
        arrive spread over time, back-to-back batches of one or two items each pay the
        batch's fixed cost (three to five items' worth: ``bench/stream_server_cost.py``) and
        keep the core busy; e.g. 0.01 trades up to 10 ms of latency for fewer, larger
        batches (one session, a chunk every 20 ms, never waits).
    inline : bool
        Run each batch on the event loop's thread, then let the senders run before the next
        batch (default). The work is Python and small numpy calls that hold the GIL, so a
        worker thread adds no parallelism, only a thread handoff per batch and GIL switches
        (5 ms each) between the batch and the sockets; inline, a batch's frames leave
        before the next batch starts. A batch of more than ``inline_max_bytes`` of audio
        (a client sending seconds at once) runs in ``pool``, so that it does not stop the
        other sessions' sockets and ``/health`` for its whole duration.
    on_batch : callable, optional
        ``on_batch(n_items, audio_s, wall_s, cpu_s)`` after each batch that ran: its sessions,
        its seconds of audio, its wall seconds and its thread's CPU seconds (admission
        control fits its batch cost model to these:
        :meth:`talkinghead.serve.admission.Admission.record_batch`).
    """

    def __init__(self, pool, *, max_items: int = 64, inline: bool = True,
                 inline_max_bytes: int = 1 << 18,
                 min_interval_s: float = 0.0, on_batch=None) -> None:  # fmt: skip
        self.pool = pool
        self.on_batch = on_batch
        self.min_interval_s = float(min_interval_s)
        self._last_start = -float("inf")
        self.max_items = int(max_items)
        self.inline = bool(inline)
        self.inline_max_bytes = int(inline_max_bytes)
        self._ready: dict = {}  # streams with audio waiting, in arrival order (a set)
        self._running = False
        self.batches = 0
        self.items = 0

    def add(self, st: Stream, chunk: bytes) -> None:
        """Queue ``chunk`` (the next audio of ``st``) for the next batch."""
        if not st.pending:
            st.t_first = time.perf_counter()
        st.pending.append(chunk)
        st.n_bytes += len(chunk)
        self.offer(st)

    def offer(self, st: Stream) -> None:
        """Put ``st`` in the next batch if it has audio waiting and may be pushed."""
        if st.closed or st.held or st.busy or not st.pending:
            return
        self._ready[st] = None
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        from ..streaming import push_batch

        loop = asyncio.get_running_loop()
        try:
            while self._ready:
                wait = self._last_start + self.min_interval_s - time.perf_counter()
                if wait > 0:  # gather the sessions' chunks of the next few ms into one batch
                    await asyncio.sleep(wait)
                self._last_start = time.perf_counter()
                batch = []
                for st in list(self._ready)[: self.max_items]:
                    del self._ready[st]
                    if st.closed or st.held or not st.pending:
                        continue
                    chunk = st.pending[0] if len(st.pending) == 1 else b"".join(st.pending)
                    batch.append((st, chunk, st.t_first))
                    st.pending, st.n_bytes, st.t_first, st.busy = [], 0, None, True
                    st.room.set()
                if not batch:
                    continue
                items = [(st.sa, chunk) for st, chunk, _ in batch]
                inline = self.inline and sum(len(c) for _, c in items) <= self.inline_max_bytes
                try:
                    if inline:
                        res, dt, cpu = _timed_batch(push_batch, items)
                    else:
                        res, dt, cpu = await loop.run_in_executor(
                            self.pool, _timed_batch, push_batch, items
                        )
                except Exception as e:  # the batch itself failed: every item gets the error
                    res, dt = [e] * len(batch), 0.0
                else:
                    if self.on_batch is not None:
                        audio_s = sum(len(c) / st.bytes_per_s if st.bytes_per_s > 0 else 0.0
                                      for st, c, _ in batch)  # fmt: skip
                        self.on_batch(len(batch), audio_s, dt, cpu)
                share = dt / len(batch)
                self.batches += 1
                self.items += len(batch)
                for (st, chunk, t_first), r in zip(batch, res, strict=True):
                    st.busy = False
                    if st.closed:
                        continue
                    st.deliver(r, share, len(chunk), t_first)  # must not raise
                    self.offer(st)  # audio that arrived while it ran
                if inline:
                    await asyncio.sleep(0)  # the senders go first, then the next batch
        finally:
            self._running = False

    def summary(self) -> dict:
        return {
            "batches": self.batches,
            "mean_items": round(self.items / self.batches, 2) if self.batches else None,
        }


def _timed_batch(fn, items):
    """``fn(items)``, its wall seconds and its thread's CPU seconds."""
    t0, c0 = time.perf_counter(), time.thread_time()
    out = fn(items)
    return out, time.perf_counter() - t0, time.thread_time() - c0
