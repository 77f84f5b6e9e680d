"""One model call per tick for all sessions: the server's push batcher.

Every session's binary message becomes one ``(StreamingAnimator, chunk)`` item; the
batcher runs every item that is waiting in ONE worker-thread call of
:func:`talkinghead.streaming.push_batch` (the learned animators' trunk, network and face
read-out are batched over the sessions there), one batch at a time: while a batch runs the
next items gather, so the batch size follows the load by itself (one session: one item per
batch, no added wait; 20 sessions: about 20 items per batch). Each session gets its own
frames (or its own error) and its share of the batch's time, which admission control
counts as that session's work.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["PushBatcher"]


class PushBatcher:
    """Gather sessions' pushes and run them together (see the module docstring).

    Parameters
    ----------
    pool : concurrent.futures.Executor
        Where a batch runs (off the event loop).
    max_items : int
        Largest batch (the rest waits for the next one).
    """

    def __init__(self, pool, *, max_items: int = 64) -> None:
        self.pool = pool
        self.max_items = int(max_items)
        self._pending: list = []  # (sa, chunk, future)
        self._running = False
        self.batches = 0
        self.items = 0

    async def push(self, sa, chunk):
        """``(frames, seconds)`` of ``sa.push(chunk)`` run in the next batch (``seconds``:
        this item's share of the batch's time); raises what the push raised."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending.append((sa, chunk, fut))
        if not self._running:
            self._running = True
            loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        from ..streaming import push_batch

        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch = self._pending[: self.max_items]
                del self._pending[: self.max_items]
                items = [(sa, chunk) for sa, chunk, _ in batch]
                try:
                    res, dt = await loop.run_in_executor(self.pool, _timed_batch, push_batch, items)
                except Exception as e:  # the batch itself failed: every item gets the error
                    res, dt = [e] * len(batch), 0.0
                share = dt / max(1, len(batch))
                self.batches += 1
                self.items += len(batch)
                for (_, _, fut), r in zip(batch, res, strict=True):
                    if fut.done():
                        continue
                    if isinstance(r, BaseException):
                        fut.set_exception(r)
                    else:
                        fut.set_result((r, share))
        finally:
            self._running = False

    def summary(self) -> dict:
        return {
            "batches": self.batches,
            "mean_items": round(self.items / self.batches, 2) if self.batches else None,
        }


def _timed_batch(fn, items):
    t0 = time.perf_counter()
    out = fn(items)
    return out, time.perf_counter() - t0
