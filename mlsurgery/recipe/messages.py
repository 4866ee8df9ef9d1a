"""One-line messages for what a recipe gets wrong: which key, what was expected, what was found, and a hint.

They turn pydantic's validation details (``recipe.steps``' models) into the sentence after ``file:line: step N``.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from ..errors import did_you_mean


def first_error(error: ValidationError, data) -> dict:
    """The error to report: a misspelt key before the 'missing' error it causes, and located in the user's data.

    For a union type pydantic appends the member type to the location (``labels[0].str``); only the part of the
    location that exists in ``data`` names the user's value.
    """
    details = error.errors(include_url=False)
    detail = next((d for d in details if d["type"] == "extra_forbidden"), details[0])
    if detail["type"] in ("extra_forbidden", "missing"):
        return detail
    present, value = [], data
    for part in detail["loc"]:
        if isinstance(value, dict) and part in value or isinstance(value, list) and isinstance(part, int) \
                and part < len(value):
            present.append(part)
            value = value[part]
        else:
            break
    return {**detail, "loc": tuple(present)}


def explain(detail: dict, model: type[BaseModel], noun: str) -> str:
    kind, loc, value = detail["type"], tuple(detail["loc"]), detail.get("input")
    name = loc_name(loc)
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        return f"unknown key {name!r}{suggestion(str(loc[-1]), known)}"
    if kind == "missing":
        field = model.model_fields.get(loc[0]) if len(loc) == 1 else None
        about = f" ({field.description[0].lower()}{field.description[1:].rstrip('.')})" \
            if field is not None and field.description else ""
        return f"missing {noun if len(loc) == 1 else 'key'} {name!r}{about}"
    if kind in ("value_error", "assertion_error"):
        message = str(detail.get("ctx", {}).get("error", detail["msg"]))
        return f"{name}: {message}" if name else message
    if kind in ("too_short", "too_long"):
        limits = detail.get("ctx", {})
        bound = (f"at least {limits.get('min_length')}" if kind == "too_short" else
                 f"at most {limits.get('max_length')}")
        return f"{name} needs {bound} item(s), got {value!r}"
    message = detail["msg"]
    message = f"{name} {message[len('Input '):]}" if message.startswith("Input ") else \
        f"{name}: {message[0].lower()}{message[1:]}"
    return f"{message}, got {value!r}{hint(kind, value)}"


def loc_name(loc: tuple) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def hint(kind: str, value) -> str:
    if value is None:
        return " (the value is empty)"
    if kind == "string_type" and not isinstance(value, (dict, list)):
        return f" (quote it to keep it text: '{value}')"
    if kind in ("int_type", "float_type", "bool_type") and isinstance(value, str):
        return " (write it without quotes)"
    return ""


def suggestion(word: str, choices) -> str:
    hint = did_you_mean(word, choices, limit=1)
    if hint:
        return f" ({hint})"
    return f"; choose from {', '.join(choices)}"


def type_name(value) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


