"""Fitting API records to the declared schema, cheaply.

Records come from JSON, so their values are already JSON types, and our schemas declare the
API's own types; the only change the SDK's generic per-field conformance makes to such data is
dropping properties the schema does not declare. Doing just that with set operations on a plan
compiled once from the schema costs a fraction of the generic walk (see benchmarks/), and the
tests validate emitted records against the declared schemas.
"""

from __future__ import annotations

import typing as t

#: A compiled plan: allowed keys, and the plans of the nested objects/arrays worth visiting.
Plan = tuple[frozenset[str], dict[str, "Plan"]]


def _object_schema(schema: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """The object schema inside ``schema`` (directly, or as an array's items), if any."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "array" in types and isinstance(schema.get("items"), dict):
        return _object_schema(schema["items"])
    if "object" in types and "properties" in schema and not schema.get("additionalProperties"):
        return schema
    return None


def compile_plan(schema: dict[str, t.Any]) -> Plan:
    """Compile the pruning plan of an object schema."""
    properties: dict[str, t.Any] = schema.get("properties", {})
    nested: dict[str, Plan] = {}
    for name, sub in properties.items():
        inner = _object_schema(sub)
        if inner is not None:
            nested[name] = compile_plan(inner)
    return frozenset(properties), nested


def prune(value: t.Any, plan: Plan, path: str, unknown: set[str]) -> None:
    """Drop, in place, properties the plan does not allow; note their paths in ``unknown``."""
    if isinstance(value, list):
        for item in value:
            prune(item, plan, path, unknown)
        return
    if not isinstance(value, dict):
        return
    allowed, nested = plan
    extra = value.keys() - allowed
    for key in extra:
        del value[key]
        unknown.add(f"{path}{key}")
    for key, sub_plan in nested.items():
        child = value.get(key)
        if child is not None:
            prune(child, sub_plan, f"{path}{key}.", unknown)


class RecordFitter:
    """Prunes records of one stream to its schema and reports new API fields once."""

    def __init__(self, schema: dict[str, t.Any]) -> None:
        """Compile the plan once per stream."""
        self._plan = compile_plan(schema)
        self.reported: set[str] = set()

    def fit(self, record: dict[str, t.Any]) -> set[str]:
        """Prune ``record`` in place; return field paths not reported before."""
        unknown: set[str] = set()
        prune(record, self._plan, "", unknown)
        new = unknown - self.reported
        self.reported |= new
        return new
