"""One-line argument errors for the SDK's schema check.

The SDK validates arguments against the input schema before a tool runs and, on failure,
sends pydantic's multi-line dump with a documentation URL. :func:`describe_errors` turns it
into the line our own checks write (``limit must be a whole number from 1 to 100; got
"ten"``): the argument, what its schema allows, and what was given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orderdesk_mcp.entrypoints.mcp_results import compact_json
from orderdesk_mcp.entrypoints.mcp_schemas import PATTERN_WORDS

__all__ = ["allowed_by", "describe_errors"]

_SHOWN = 60


def _shown(value: object) -> str:
    try:
        text = compact_json(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _range(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"from {low} to {high}" if low != high else f"exactly {low}"
    if low is not None:
        return f"of at least {low}"
    return f"of at most {high}" if high is not None else ""


def _count(low: object, high: object, unit: str) -> str:
    if low is not None and high is not None:
        return f"of {low} to {high} {unit}" if low != high else f"of exactly {low} {unit}"
    if low is not None:
        return f"of at least {low} {unit}"
    return f"of at most {high} {unit}" if high is not None else ""


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
        if isinstance(target, Mapping):
            return target
    return schema


def allowed_by(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> str:
    """What a JSON schema allows, in words ("a whole number from 1 to 100"), with its examples."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        shown = " or ".join(compact_json(example) for example in examples[:3])
        return f"{_allowed(schema, root)}, like {shown}"
    return _allowed(schema, root)


def _allowed(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    if "enum" in schema:
        choices = [compact_json(choice) for choice in schema["enum"]]
        return " or ".join(choices) if len(choices) <= 2 else "one of " + ", ".join(choices)
    if "const" in schema:
        return compact_json(schema["const"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        words = [allowed_by(o, root) for o in options if _resolve(o, root).get("type") != "null"]
        return " or ".join(dict.fromkeys(words)) or "null"
    kind = schema.get("type")
    if kind == "integer":
        return " ".join(
            filter(None, ["a whole number", _range(schema.get("minimum"), schema.get("maximum"))])
        )
    if kind == "number":
        return " ".join(filter(None, ["a number", _range(schema.get("minimum"), schema.get("maximum"))]))
    if kind == "boolean":
        return "true or false"
    if kind == "string":
        if schema.get("pattern") in PATTERN_WORDS:
            return PATTERN_WORDS[schema["pattern"]]
        length = _count(schema.get("minLength"), schema.get("maxLength"), "characters")
        return f"a string {length}" if length else "a string"
    if kind == "array":
        items = schema.get("items")
        count = _count(schema.get("minItems"), schema.get("maxItems"), "items")
        head = f"a list {count}" if count else "a list"
        return f"{head}, each {allowed_by(items, root)}" if isinstance(items, Mapping) else head
    if kind == "object":
        return "an object"
    return "a valid value"


def _line(name: str, schema: Mapping[str, Any] | None, root: Mapping[str, Any], errors: Sequence[Any],
          arguments: Mapping[str, Any]) -> str:  # fmt: skip
    if any(err["type"] == "missing" for err in errors):
        allowed = allowed_by(schema, root) if schema is not None else "given"
        return f"{name} is required: {allowed}"
    custom = [err for err in errors if err["type"] == "string_too_long_nested"]
    if custom:
        return f"{name}.{custom[0]['msg']}"
    given = _shown(arguments.get(name))
    if schema is None:
        return f"{name}: {errors[0]['msg']}; got {given}"
    # A list item that is wrong is named by its index, with what an item may be.
    first = errors[0]["loc"]
    items = _resolve(schema, root)
    for option in items.get("anyOf") or ():
        if _resolve(option, root).get("type") == "array":
            items = _resolve(option, root)
    if len(first) > 1 and isinstance(first[1], int) and items.get("type") == "array" and "items" in items:
        value = arguments.get(name)
        item = value[first[1]] if isinstance(value, list) and first[1] < len(value) else None
        return f"{name}[{first[1]}] must be {allowed_by(items['items'], root)}; got {_shown(item)}"
    return f"{name} must be {allowed_by(schema, root)}; got {given}"


def describe_errors(
    errors: Sequence[Mapping[str, Any]], input_schema: Mapping[str, Any], arguments: Mapping[str, Any]
) -> list[str]:
    """One short line per wrong argument, in the order the schema lists them."""
    by_argument: dict[str, list[Any]] = {}
    for err in errors:
        loc = err.get("loc") or ("arguments",)
        by_argument.setdefault(str(loc[0]), []).append(err)
    properties = input_schema.get("properties", {})
    order = [name for name in properties if name in by_argument]
    order += [name for name in by_argument if name not in properties]
    return [_line(name, properties.get(name), input_schema, by_argument[name], arguments) for name in order]
