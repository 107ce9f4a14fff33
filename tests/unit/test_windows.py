"""Time windows cut for the API's limits: contiguous, covering, none wider than allowed."""

from __future__ import annotations

import itertools

import pytest

from tap_tiktok_shop.windows import Window

THREE_MONTHS_SAFE = 89 * 86_400  # the affiliate search's widest request


@pytest.mark.parametrize("width", [1, 89 * 86_400, 89 * 86_400 + 1, 365 * 86_400 + 7])
def test_chunks_cover_the_window_contiguously_and_none_is_too_wide(width):
    window = Window(1_700_000_000, 1_700_000_000 + width)
    chunks = window.chunks(THREE_MONTHS_SAFE)
    assert chunks[0].start == window.start
    assert chunks[-1].end == window.end
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert all(0 < chunk.end - chunk.start <= THREE_MONTHS_SAFE for chunk in chunks)
    assert len(chunks) == -(-width // THREE_MONTHS_SAFE)  # no more requests than needed


def test_a_window_without_a_limit_or_within_it_stays_whole():
    window = Window(0, 1_000)
    assert window.chunks(None) == [window]
    assert window.chunks(1_000) == [window]
