"""Full-shape objects from the vendor shape files, so every served object has every field."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SHAPES_DIR = Path(__file__).resolve().parent / "shapes"
ORDER_SHAPE = "order_shape_search_202309"

_DEFAULTS: dict[str, Any] = {"string": "", "integer": 0, "boolean": False, "number": 0.0}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "number": (int, float),
}


@functools.cache
def _load(name: str) -> str:
    """Read a shape file once; the text is parsed afresh by callers so they may mutate it."""
    return (SHAPES_DIR / f"{name}.json").read_text(encoding="utf-8")


def load_shape(name: str = ORDER_SHAPE) -> dict[str, Any]:
    """Return the shape (field name to type string, nested) stored in shapes/<name>.json."""
    shape: dict[str, Any] = json.loads(_load(name))
    return shape


def default_for(shape: Any) -> Any:
    """Build a neutral value of a shape: empty strings, zeros, False, one-element arrays."""
    if isinstance(shape, dict):
        return {key: default_for(sub) for key, sub in shape.items()}
    if isinstance(shape, list):
        return [default_for(shape[0])] if shape else []
    return _DEFAULTS.get(str(shape), "")


def complete(value: Any, shape: Any) -> Any:
    """Return a copy of `value` with every field the shape lists, filling gaps with defaults."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return default_for(shape)
        out = {
            key: complete(value[key], sub) if key in value else default_for(sub)
            for key, sub in shape.items()
        }
        out.update({key: val for key, val in value.items() if key not in shape})
        return out
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return default_for(shape)
        return [complete(item, shape[0]) for item in value]
    return value


def shape_paths(shape: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted path, type) for every leaf of a shape; arrays appear as `name[]`."""
    if isinstance(shape, dict):
        for key, sub in shape.items():
            yield from shape_paths(sub, f"{prefix}.{key}" if prefix else key)
    elif isinstance(shape, list):
        yield from shape_paths(shape[0] if shape else "string", f"{prefix}[]")
    else:
        yield prefix, str(shape)


def mismatches(value: Any, shape: Any, path: str = "$") -> list[str]:
    """List every place where `value` lacks a field, has an empty array or a wrong JSON type."""
    if isinstance(shape, dict):
        return _object_mismatches(value, shape, path)
    if isinstance(shape, list):
        return _array_mismatches(value, shape, path)
    allowed = _PY_TYPES.get(str(shape), (str,))
    wrong_bool = isinstance(value, bool) and bool not in allowed
    if wrong_bool or not isinstance(value, allowed):
        return [f"{path}: expected {shape}, got {type(value).__name__}"]
    return []


def _object_mismatches(value: Any, shape: dict[str, Any], path: str) -> list[str]:
    """Check an object against an object shape."""
    if not isinstance(value, dict):
        return [f"{path}: expected object, got {type(value).__name__}"]
    problems: list[str] = []
    for key, sub in shape.items():
        if key not in value:
            problems.append(f"{path}.{key}: missing")
        else:
            problems.extend(mismatches(value[key], sub, f"{path}.{key}"))
    return problems


def _array_mismatches(value: Any, shape: list[Any], path: str) -> list[str]:
    """Check an array (which must not be empty) against an array shape."""
    if not isinstance(value, list):
        return [f"{path}: expected array, got {type(value).__name__}"]
    if not value:
        return [f"{path}: empty array"]
    problems: list[str] = []
    for index, item in enumerate(value):
        problems.extend(mismatches(item, shape[0] if shape else "string", f"{path}[{index}]"))
    return problems
