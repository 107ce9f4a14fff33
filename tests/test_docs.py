"""The docs agree with the code: settings table, schema coverage of the API reference."""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "reference"
sys.path.insert(0, str(REPO / "scripts"))

import update_readme_settings  # noqa: E402

#: stream name -> the API shape file its schema must cover
SCHEMA_REFERENCES = {"orders": "order_shape_search_202309.json"}


def test_readme_settings_table_is_generated_from_about():
    readme = (REPO / "README.md").read_text()
    table = update_readme_settings.settings_table()
    assert update_readme_settings.render(readme, table) == readme, (
        "README settings table is stale: run `make docs`"
    )


def _missing(shape: t.Any, schema: dict[str, t.Any], path: str) -> list[str]:
    missing: list[str] = []
    if isinstance(shape, dict):
        properties = schema.get("properties", {})
        for key, value in shape.items():
            if key not in properties:
                missing.append(f"{path}.{key}")
            else:
                missing += _missing(value, properties[key], f"{path}.{key}")
    elif isinstance(shape, list) and shape:
        missing += _missing(shape[0], schema.get("items", {}), f"{path}[]")
    else:
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if shape not in types:
            missing.append(f"{path} (type {shape} not in {types})")
    return missing


@pytest.mark.parametrize(("stream", "reference"), sorted(SCHEMA_REFERENCES.items()))
def test_schema_covers_every_reference_field(stream, reference):
    shape = json.loads((REFERENCE / reference).read_text())
    schema = json.loads((REPO / "tap_tiktok_shop" / "schemas" / f"{stream}.json").read_text())
    assert _missing(shape, schema, stream) == []
    assert schema["properties"]["shop_id"]["type"] == "string"


def test_coverage_check_catches_a_missing_field():
    shape = {"a": "string", "b": {"c": "integer"}}
    schema = {"properties": {"a": {"type": ["string", "null"]}, "b": {"properties": {}}}}
    assert _missing(shape, schema, "x") == ["x.b.c"]
