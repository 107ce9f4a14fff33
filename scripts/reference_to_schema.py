"""Generate a stream's JSON schema from an API shape file of ``tiktok_shop_emulator/shapes/``.

Usage: python scripts/reference_to_schema.py REFERENCE.json OUT.json [--required id ...]
       [--context statement_id ...]

Every field becomes nullable (the API omits fields freely); the types are the API's own
(integers for unix seconds, strings for money). ``shop_id`` is added: every record carries it;
``--context`` adds other required string keys a child stream copies from its parent.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import typing as t


def to_schema(shape: t.Any) -> dict[str, t.Any]:
    """Translate one shape node into a nullable JSON schema node."""
    if isinstance(shape, dict):
        return {
            "type": ["object", "null"],
            "properties": {key: to_schema(value) for key, value in sorted(shape.items())},
        }
    if isinstance(shape, list):
        return {"type": ["array", "null"], "items": to_schema(shape[0]) if shape else {}}
    return {"type": [str(shape), "null"]}


def main() -> None:
    """Write the schema file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reference", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--required", nargs="*", default=["id"])
    parser.add_argument("--context", nargs="*", default=[])
    args = parser.parse_args()
    shape = json.loads(args.reference.read_text())
    schema = to_schema(shape)
    schema["type"] = "object"
    schema["properties"]["shop_id"] = {"type": "string", "description": "The shop's id."}
    for key in args.context:
        schema["properties"][key] = {"type": "string", "description": "From the parent record."}
    for key in args.required:
        schema["properties"][key]["type"] = schema["properties"][key]["type"][0]
    schema["required"] = [*args.required, *args.context, "shop_id"]
    args.out.write_text(json.dumps(schema, indent=1) + "\n")


if __name__ == "__main__":
    main()
