"""The circuit breaker: an API outage stops the run once instead of failing every shop in turn.

Retries exhausted on a shop's request end that shop's read only (``per_shop.py``), which is
right when one shop's requests keep failing. But when the API itself is down, every shop fails
the same way, each after 8 attempts and up to 10 minutes: with hundreds of shops, hours of
retrying for nothing. So the failures that are not about one shop in particular (retries
exhausted on HTTP 5xx, timeouts, connection errors, 429) are counted per stream, in the order
the SDK consumes the reads (that of a sequential run, whatever the prefetcher fetched first),
and any read of that stream that succeeds resets the count. When ``SHOPS_IN_A_ROW`` different
shops failed that way in a row, the run stops with one line saying the API looks down: the
reads consumed before were emitted with their STATE, the failed shops keep their bookmarks, and
the prefetcher is closed, so no further read starts and no retry in flight sends another
attempt. Counted per stream because one endpoint can be down while the others answer (a
finance outage would otherwise cost every shop its retries, the orders succeeding in between).

Failures that concern one shop (de-authorized, inactive seller, refused cipher or page token)
are answers of an API that works: they do not count, and, not being successes, do not reset.

While a stream has failures counted, read-ahead is held (``Prefetcher.hold``): only the read
the consumer waits for runs, so an outage costs the retries of the reads already under way, not
one more shop's per worker. A success releases it.
"""

from __future__ import annotations

import typing as t

from tap_tiktok_shop.errors import ApiDownError, RetriesExhaustedError

if t.TYPE_CHECKING:
    from tap_tiktok_shop.prefetch import Prefetcher

#: Shops in a row whose read of a stream exhausted its retries before the run stops. One is a
#: flaky shop and two can be bad luck (a brief blip straddling two reads running at once), but
#: three different shops failing for minutes each, with no read succeeding in between, is the
#: API (or that endpoint) being down; waiting for more only multiplies the ~10 minutes each
#: costs, while a false stop merely defers the remaining shops to the next scheduled run.
SHOPS_IN_A_ROW = 3


def failure_of(error: BaseException) -> str:
    """What failed, for the outage line: HTTP status and API code, or the network error."""
    verdict = getattr(error, "verdict", None)
    if verdict is not None:
        code = f", API code {verdict.code}" if verdict.code is not None else ""
        return f"HTTP {verdict.status}{code}"
    cause = error.__cause__
    return type(cause).__name__ if cause is not None else type(error).__name__


class OutageBreaker:
    """Counts, per stream, the shops in a row whose read failed as if the API were down.

    Called by the consumer only (the SDK's thread), in consumption order.
    """

    def __init__(self, reads: Prefetcher, threshold: int = SHOPS_IN_A_ROW) -> None:
        """``reads``: held while failures are counted, closed when the breaker trips."""
        self._reads = reads
        self._threshold = threshold
        #: Stream -> the shops (in order) that failed it since its last success, and how.
        self._failing: dict[str, dict[str, BaseException]] = {}

    @staticmethod
    def counts(error: BaseException) -> bool:
        """Whether a shop's failure may be the API being down rather than about the shop."""
        return isinstance(error, RetriesExhaustedError)

    def succeeded(self, stream: str) -> None:
        """A read of ``stream`` went through: its count starts again; read-ahead may go on."""
        self._failing.pop(stream, None)
        if not self._failing:
            self._reads.release()

    def failed(self, stream: str, shop_id: str, error: BaseException) -> ApiDownError | None:
        """Count a failed shop read; return the error that stops the run when it trips."""
        if not self.counts(error):
            return None
        shops = self._failing.setdefault(stream, {})
        shops[shop_id] = error
        if len(shops) < self._threshold:
            self._reads.hold()
            return None
        self._reads.close()
        return ApiDownError(self._line(stream, shops, error))

    def _line(self, stream: str, shops: dict[str, BaseException], last: BaseException) -> str:
        how = ", ".join(dict.fromkeys(failure_of(error) for error in shops.values()))
        return (
            f"The API looks down: reading '{stream}' failed for {len(shops)} shops in a row "
            f"({', '.join(shops)}) with {how} after every retry; the last: {last}. Stopped "
            "without trying the other shops: everything read before was emitted with its "
            "STATE, and the shops not synced keep their bookmarks. Run again later."
        )
