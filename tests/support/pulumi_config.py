"""`pulumi config set` applied to a stack's config, with the Pulumi CLI's own rules.

Read from pulumi/pulumi (sdk/go/common/resource/config/map.go `Map.Set`, value.go `coerceObject`
and `unmarshalObject`, object.go `coerce` and `object.Set`; sdk/go/common/resource/
properties_path.go `parsePropertyPath`; pkg/cmd/pulumi/config/config.go, the `--type` flag):

- Without `--path` the key is set as given, the value a string (or the `--type`).
- With `--path` the key's name is a property path: `a.b`, `[0]` indices, `["quoted.key"]`. A
  one-segment path sets the value as it stands; a longer one coerces an untyped value: `true` and
  `false` become booleans, base-10 digits without a leading zero integers, all else stays text.
  `--type string|int|bool|float` stores that type instead.
- Missing containers are made from the next segment (an index makes a list, a name a map); an
  index may be at most the list's length (one past the end appends).

Only what a README line needs is here; a flag this module does not know fails the test.
"""

from __future__ import annotations

import shlex
from typing import Any

Path = list[str | int]


class ConfigSetError(ValueError):
    """What the CLI would refuse."""


def parse_property_path(path: str) -> Path:
    """`parsePropertyPath` in strict mode: names, `[N]` and `["key"]`."""
    elements: Path = []
    if path.startswith("."):
        raise ConfigSetError("expected property path to start with a name or index")
    while path:
        if path[0] == ".":
            path = path[1:]
            if not path:
                raise ConfigSetError("expected property path to end with a name or index")
            if path[0] == "[":
                raise ConfigSetError("expected property name after '.'")
        elif path[0] == "[":
            if path[1:2] == '"':
                end = path.find('"]', 2)
                if end == -1:
                    raise ConfigSetError("missing closing quote or bracket in property name")
                elements.append(path[2:end].replace('\\"', '"'))
                path = path[end + 2 :]
            else:
                end = path.find("]")
                if end == -1 or not path[1:end].isdigit():
                    raise ConfigSetError(f"invalid array index in {path!r}")
                elements.append(int(path[1:end]))
                path = path[end + 1 :]
        else:
            end = min((i for i in (path.find("."), path.find("[")) if i != -1), default=len(path))
            elements.append(path[:end])
            path = path[end:]
    return elements


def coerce(value: str) -> str | bool | int:
    """`coerce`: `true`/`false` and digits without a leading zero; anything else unchanged."""
    if value in ("true", "false"):
        return value == "true"
    if len(value) > 1 and value.startswith("0"):
        return value
    try:
        return int(value, 10)
    except ValueError:
        return value


def typed(value: str, type_: str) -> str | bool | int | float:
    """`--type`: the CLI's four types."""
    if type_ == "string":
        return value
    if type_ == "int":
        return int(value)
    if type_ == "bool":
        return value.lower() in ("1", "t", "true")
    if type_ == "float":
        return float(value)
    raise ConfigSetError(f"invalid type {type_!r}; must be one of string, int, bool, or float")


def _container(segment: str | int) -> Any:
    return [] if isinstance(segment, int) else {}


def _set(container: Any, path: Path, value: Any) -> None:
    head, rest = path[0], path[1:]
    if isinstance(container, list):
        if not isinstance(head, int):
            raise ConfigSetError(f"{head!r}: key for an array must be an int")
        if not 0 <= head <= len(container):
            raise ConfigSetError(f"[{head}]: array index out of range")
        if head == len(container):
            container.append(None)
    elif isinstance(head, int):
        raise ConfigSetError(f"[{head}]: expected an array")
    slot: Any = head
    if not rest:
        container[slot] = value
        return
    child = container[slot] if isinstance(container, list) else container.get(slot)
    if not isinstance(child, list | dict):
        child = _container(rest[0])
        container[slot] = child
    _set(child, rest, value)


def config_set(config: dict[str, Any], key: str, value: str, *, path: bool, type_: str) -> None:
    """One `pulumi config set [--path] [--type T] KEY VALUE` on a stack's `config:` mapping."""
    stored: Any = typed(value, type_) if type_ else value
    if not path:
        config[key] = stored
        return
    namespace, sep, name = key.partition(":")
    if not sep:
        raise ConfigSetError(f"{key!r}: a key of this program names its namespace")
    elements = parse_property_path(name)
    if not elements or not isinstance(elements[0], str) or not elements[0]:
        raise ConfigSetError(f"{key!r}: first path segment of config key must be a string")
    root = f"{namespace}:{elements[0]}"
    if len(elements) == 1:
        config[root] = stored
        return
    leaf = stored if type_ else coerce(value)
    if not isinstance(config.get(root), dict | list):
        config[root] = _container(elements[1])
    _set(config[root], elements[1:], leaf)


def apply_lines(lines: list[str], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply every `pulumi config set` line of a shell snippet in order; other lines are skipped.

    A trailing `# comment` is dropped as the shell would."""
    config = {} if config is None else config
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[:3] != ["pulumi", "config", "set"]:
            continue
        path, type_, positional = False, "", []
        args = iter(words[3:])
        for word in args:
            if word == "--path":
                path = True
            elif word == "--type":
                type_ = next(args)
            elif word.startswith("-"):
                raise ConfigSetError(f"flag {word} is not emulated: {line}")
            else:
                positional.append(word)
        if len(positional) != 2:
            raise ConfigSetError(f"expected KEY VALUE: {line}")
        config_set(config, positional[0], positional[1], path=path, type_=type_)
    return config
