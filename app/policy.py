"""Policy files: a versioned YAML file read into a frozen dataclass, refused at start-up if wrong.

A policy class is a frozen dataclass with a ``version: int`` field and one field per rule, each
declared with ``field(metadata=setting("dotted.key", parse))``: the declarations are the file's
schema. Loading reads exactly those keys; a missing key, a wrong value or a key that no field
declares stops the app with a ``PolicyError`` naming the file and the key. Product code reads a
rule through the field (the typed accessor), never through the YAML.

This module is the platform layer: it imports nothing from the product's domains.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_KEY = "policy_key"
_PARSE = "policy_parse"

P = TypeVar("P", bound="DataclassInstance")


class PolicyError(ValueError):
    """The policy file is missing something or holds a wrong value; the message names it."""


# ----- values -----


def duration(value: Any, where: str) -> timedelta:
    """A duration written like 30s, 10m, 2h or 3d."""
    match = _DURATION.match(str(value).strip())
    if not match:
        raise PolicyError(f"{where}: {value!r} is not a duration like 10m, 2h or 3d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def clock(value: Any, where: str) -> time:
    """A time of day written like 08:00."""
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not a time like 08:00") from None


def whole_number(minimum: int = 0) -> Callable[[Any, str], int]:
    """A parser of whole numbers at or above `minimum` (true and false are not numbers)."""

    def parse(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise PolicyError(f"{where}: {value!r} is not a whole number of at least {minimum}")
        return value

    return parse


def positive_duration(value: Any, where: str) -> timedelta:
    """A duration longer than zero."""
    parsed = duration(value, where)
    if parsed <= timedelta(0):
        raise PolicyError(f"{where}: {value!r} must be longer than zero")
    return parsed


def mapping(value: Any, where: str) -> dict[str, Any]:
    """A YAML mapping, its keys as text."""
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: expected a mapping of names to values, got {value!r}")
    return {str(key): item for key, item in value.items()}


def only_keys(
    value: Any, where: str, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, Any]:
    """A mapping whose keys are `required` plus any of `optional`, for an item of a list."""
    found = mapping(value, where)
    allowed = {*required, *optional}
    if unknown := sorted(set(found) - allowed):
        raise PolicyError(
            f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(allowed))})"
        )
    if missing := sorted(set(required) - set(found)):
        raise PolicyError(f"{where}.{missing[0]}: missing")
    return found


# ----- the schema -----


def setting(key: str, parse: Callable[[Any, str], Any]) -> dict[str, Any]:
    """The metadata of a policy field read from `key` (dotted: "lock.after_failures") by `parse`.

    Use as `field(metadata=setting(...))`; give the field a default to make the key optional.
    `parse(value, where)` returns the typed value, or raises PolicyError or ValueError.
    """
    return {_KEY: key, _PARSE: parse}


def declared_keys(policy_class: type[DataclassInstance]) -> dict[str, str]:
    """The schema of a policy class: each dotted key of the file and the field it fills."""
    keys = {"version": "version"}
    for field in dataclasses.fields(policy_class):
        if _KEY in field.metadata:
            keys[field.metadata[_KEY]] = field.name
        elif field.name != "version":
            raise TypeError(f"{policy_class.__name__}.{field.name}: declare it with setting()")
    return keys


def load(policy_class: type[P], path: Path | str) -> P:
    """Read the policy file at `path` into `policy_class`, or raise PolicyError naming the key.

    Cross-field rules live in the class's __post_init__ (raise PolicyError or ValueError there).
    """
    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{source}: cannot be read: {exc}") from None
    if not isinstance(data, Mapping):
        raise PolicyError(f"{source}: expected a mapping of keys at the top, got {data!r}")
    keys = declared_keys(policy_class)
    try:
        if unknown := list(_undeclared(data, keys)):
            raise PolicyError(
                f"unknown key {', '.join(map(repr, unknown))}: nothing reads it (remove it, or "
                f"declare it in {policy_class.__name__})"
            )
        return policy_class(**_values(policy_class, data))
    except PolicyError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{source}: {exc}") from None


def _values(policy_class: type[DataclassInstance], data: Mapping[str, Any]) -> dict[str, Any]:
    version = _lookup(data, "version")
    if version is _MISSING:
        raise PolicyError("version: missing (raise it with every change)")
    values = {"version": whole_number(1)(version, "version")}
    for field in dataclasses.fields(policy_class):
        if _KEY not in field.metadata:
            continue
        key = field.metadata[_KEY]
        value = _lookup(data, key)
        if value is _MISSING:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise PolicyError(f"{key}: missing")
            continue
        try:
            values[field.name] = field.metadata[_PARSE](value, key)
        except PolicyError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"{key}: {value!r} is not valid: {exc}") from None
    return values


class _Missing:
    pass


_MISSING: Any = _Missing()


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _undeclared(
    data: Mapping[str, Any], keys: Mapping[str, str], prefix: str = ""
) -> Iterator[str]:
    """The dotted keys of `data` that no declared key covers (a declared key covers its subtree)."""
    for raw, value in data.items():
        key = f"{prefix}{raw}"
        if key in keys:
            continue
        inside = sorted(k.removeprefix(key + ".") for k in keys if k.startswith(key + "."))
        if not inside:
            yield key
        elif isinstance(value, Mapping):
            yield from _undeclared(value, keys, key + ".")
        else:
            raise PolicyError(f"{key}: expected a mapping of {', '.join(inside)}, got {value!r}")
