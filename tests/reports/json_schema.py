"""A small JSON Schema checker for the keywords ``docs/auskunft.schema.json`` uses (type,
const, enum, required, properties, additionalProperties, items, format date/date-time).

``jsonschema`` is not a dependency of KIMdesk; this covers exactly the schema's subset and
refuses any keyword it does not know, so the schema cannot silently outgrow the check.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

KNOWN = frozenset({"$schema", "$id", "title", "description", "type", "const", "enum",
                   "required", "properties", "additionalProperties", "items", "format"})
TYPES: dict[str, Any] = {
    "string": str, "integer": int, "boolean": bool, "object": dict, "array": list,
    "null": type(None),
}


def problems(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every place where ``value`` breaks ``schema``; empty when it validates."""
    unknown = set(schema) - KNOWN
    if unknown:
        return [f"{path}: schema keyword(s) {sorted(unknown)} not supported by this check"]
    found: list[str] = []
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, name) for name in allowed):
            return [f"{path}: {type(value).__name__} is not {allowed}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if schema.get("format") in ("date", "date-time") and isinstance(value, str):
        try:
            (date if schema["format"] == "date" else datetime).fromisoformat(value)
        except ValueError:
            found.append(f"{path}: {value!r} is no {schema['format']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [f"{path}: {name!r} missing" for name in schema.get("required", [])
                  if name not in value]
        if schema.get("additionalProperties") is False:
            found += [f"{path}: {name!r} not allowed" for name in value
                      if name not in properties]
        for name, item in value.items():
            if name in properties:
                found += problems(item, properties[name], f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{path}[{index}]")
    return found


def _is(value: Any, name: str) -> bool:
    if name == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[name])
