"""The cheap record path: schema pruning and the orjson Singer writer (issue 6)."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
from singer_sdk.singerlib.encoding.simple import RecordMessage, SchemaMessage, StateMessage

from tap_tiktok_shop import message_writer, schemas
from tap_tiktok_shop.message_writer import EncodedStateWriter, OrjsonSingerWriter
from tap_tiktok_shop.records import RecordFitter

SCHEMAS = Path(schemas.__file__).parent

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "payment": {"type": ["object", "null"], "properties": {"sub_total": {"type": "string"}}},
        "line_items": {
            "type": ["array", "null"],
            "items": {"type": ["object", "null"], "properties": {"sku_id": {"type": "string"}}},
        },
        "order_rights": {"type": ["array", "null"], "items": {"type": ["integer", "null"]}},
    },
}


def test_unknown_fields_are_dropped_at_every_depth_and_reported_once():
    fitter = RecordFitter(SCHEMA)
    record = {
        "id": "1",
        "brand_new": 1,
        "payment": {"sub_total": "1.00", "new_fee": "0.10"},
        "line_items": [{"sku_id": "a", "gift_wrap": True}, {"sku_id": "b"}],
        "order_rights": [1, 2],
    }
    assert fitter.fit(record) == {"brand_new", "payment.new_fee", "line_items.gift_wrap"}
    assert record == {
        "id": "1",
        "payment": {"sub_total": "1.00"},
        "line_items": [{"sku_id": "a"}, {"sku_id": "b"}],
        "order_rights": [1, 2],
    }
    again = {"id": "2", "brand_new": 2, "payment": None, "line_items": None}
    assert fitter.fit(again) == set()  # already reported
    assert "brand_new" not in again


def test_fitted_emulator_order_validates_against_the_orders_schema(emulator):
    shop = emulator.shops()[0]["id"]
    order = emulator.order(shop, emulator.orders_for_shop(shop)[0]["id"])
    order["shop_id"] = shop
    schema = json.loads((SCHEMAS / "orders.json").read_text())
    RecordFitter(schema).fit(order)
    jsonschema.Draft7Validator(schema).validate(order)


class _BinaryStdout:
    """A stdout with a byte buffer, recording what was flushed when."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.flushed_at: list[int] = []

    def write(self, text: str) -> None:
        self.buffer.write(text.encode())

    def flush(self) -> None:
        self.flushed_at.append(len(self.buffer.getvalue()))


def test_writer_emits_json_lines_and_flushes_only_on_state(monkeypatch):
    out = _BinaryStdout()
    monkeypatch.setattr(message_writer, "sys", SimpleNamespace(stdout=out))
    writer = OrjsonSingerWriter()
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    writer.write_message(RecordMessage(stream="s", record={"a": 1}, time_extracted=moment))
    writer._out.drain()
    assert out.flushed_at == []  # records are not flushed one by one
    assert out.buffer.getvalue() == b""  # nor written before a chunk is full or a STATE comes
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    writer._out.drain()
    lines = out.buffer.getvalue().decode().splitlines()
    assert out.flushed_at == [len(out.buffer.getvalue())]  # the STATE flushed everything
    assert json.loads(lines[0]) == {
        "type": "RECORD",
        "stream": "s",
        "record": {"a": 1},
        "time_extracted": "2026-01-02T03:04:05+00:00",
    }
    assert json.loads(lines[1]) == {"type": "STATE", "value": {"bookmarks": {}}}


def test_writer_skips_a_repeated_identical_schema(monkeypatch):
    out = _BinaryStdout()
    monkeypatch.setattr(message_writer, "sys", SimpleNamespace(stdout=out))
    writer = OrjsonSingerWriter()
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    for _ in range(3):
        writer.write_message(SchemaMessage(stream="s", schema=schema, key_properties=["a"]))
    writer.drain()
    assert len(out.buffer.getvalue().splitlines()) == 1


def test_state_writer_writes_a_state_only_when_it_changed(monkeypatch):
    out = _BinaryStdout()
    monkeypatch.setattr(message_writer, "sys", SimpleNamespace(stdout=out))
    writer = OrjsonSingerWriter()
    states = EncodedStateWriter(writer)
    state = {"bookmarks": {"orders": {"partitions": [{"context": {"shop_id": "1"}}]}}}
    states.write_state(state)
    states.write_state(state)  # unchanged: nothing written
    state["bookmarks"]["orders"]["partitions"][0]["replication_key_value"] = 5  # in place
    states.write_state(state)
    lines = [json.loads(line) for line in out.buffer.getvalue().splitlines()]
    assert [line["type"] for line in lines] == ["STATE", "STATE"]
    assert lines[1] == StateMessage(value=state).to_dict()  # what the SDK's writer would write
    assert out.flushed_at[-1] == len(out.buffer.getvalue())
