"""What an answer's HTTP dates say: when to retry (``Retry-After``) and the API's clock (``Date``).

The API refuses requests signed with a timestamp more than 5 minutes old or 30 seconds ahead
of its own time, and it words that refusal vaguely; the ``Date`` of the answer measures the
skew, so the error line (and ``tap-tiktok-shop-auth check``) can say how far off the clock is.
"""

from __future__ import annotations

import email.utils
import time
import typing as t


def server_time(value: str | None) -> float | None:
    """Parse an HTTP date (``Date``, ``Retry-After``) to unix seconds."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def retry_after(headers: t.Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After``: delta-seconds or an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = server_time(value)
        return None if when is None else max(0.0, when - time.time())


def clock_hint(headers: t.Mapping[str, str]) -> str:
    """Tell the user to fix the clock, with the skew measured from the answer's ``Date``."""
    server_now = server_time(headers.get("Date"))
    advice = (
        "fix this machine's clock (NTP): the API accepts request timestamps from 5 minutes "
        "before to 30 seconds after its own time"
    )
    if server_now is None:
        return advice
    skew = time.time() - server_now
    side = "ahead of" if skew > 0 else "behind"
    return f"this machine's clock is about {abs(skew):.0f} s {side} the API's: {advice}"
