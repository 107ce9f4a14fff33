"""Reading an answer's control fields without building its records.

A page of full-shape orders is close to a megabyte of JSON. The worker that fetched it only
needs the envelope's ``code``, ``message`` and ``request_id`` and the ``next_page_token`` and
``total_count`` of ``data``; msgspec reads those and skips the records without allocating them
(about six times cheaper than a full parse). The records are parsed once, by whoever emits them.
"""

from __future__ import annotations

import typing as t

import msgspec


class _Data(msgspec.Struct):
    next_page_token: str | None = None
    total_count: int | None = None


class _Envelope(msgspec.Struct):
    code: int
    message: str | None = None
    request_id: str | None = None
    data: _Data | None = None


_DECODER = msgspec.json.Decoder(_Envelope)


def control_fields(body: bytes) -> dict[str, t.Any] | None:
    """The envelope with ``data`` reduced to its paging fields, or None if it has another shape.

    None also covers bodies that are not JSON; the caller then falls back to a full parse,
    which tells a non-envelope answer apart. msgspec skips unknown fields recursively, so a
    hostile body nested thousands of levels deep raises RecursionError: that is no envelope
    either (the full parse then refuses it by its depth limit).
    """
    try:
        envelope = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    data = envelope.data
    return {
        "code": envelope.code,
        "message": envelope.message,
        "request_id": envelope.request_id,
        "data": {}
        if data is None
        else {"next_page_token": data.next_page_token, "total_count": data.total_count},
    }
