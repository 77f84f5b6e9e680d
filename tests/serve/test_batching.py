"""The server's push batcher: a session's waiting messages go as one item, held sessions wait."""

from __future__ import annotations

import asyncio

import numpy as np

from talkinghead.serve.batching import PushBatcher, Stream
from talkinghead.streaming import EnergyAnimator, StreamingAnimator


def _stream(got):
    sa = StreamingAnimator(EnergyAnimator(fps=25, lookahead_ms=0), sample_rate=16000)
    return Stream(sa, lambda r, share, n, t0: got.append((r, n)))


def test_waiting_messages_are_one_item_and_held_streams_wait():
    y = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    chunks = [y[i : i + 320].tobytes() for i in range(0, len(y), 320)]

    async def go():
        b = PushBatcher(None)  # inline: no pool needed
        ga, gb = [], []
        a, h = _stream(ga), _stream(gb)
        h.held = True
        for c in chunks[:5]:  # all before the batcher runs: one item of 5 messages
            b.add(a, c)
            b.add(h, c)
        await asyncio.sleep(0.05)
        assert [n for _, n in ga] == [5 * 1280] and gb == [] and h.n_bytes == 5 * 1280
        h.held = False
        b.offer(h)
        await asyncio.sleep(0.05)
        assert [n for _, n in gb] == [5 * 1280]
        for c in chunks[5:]:
            b.add(a, c)
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert a.idle and sum(n for _, n in ga) == len(y) * 4
        return ga, b.summary()

    got, summary = asyncio.run(go())
    frames = [f for r, _ in got for f in r]
    ref = StreamingAnimator(EnergyAnimator(fps=25, lookahead_ms=0), sample_rate=16000)
    want = ref.push(y)
    assert [f.index for f in frames] == [f.index for f in want]
    np.testing.assert_allclose([f.landmarks for f in frames], [f.landmarks for f in want])
    assert summary["batches"] >= 2
