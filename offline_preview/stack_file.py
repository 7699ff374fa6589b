"""Read `Pulumi.yaml` and a stack file into the config map the engine would pass the program.

The engine merges the project's declared defaults under the stack's values and passes every value
as a string (objects and lists as JSON). This does the same, so the program reads identical input
under `pulumi preview` and under the offline preview.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import yaml

from offline_preview.engine import PROJECT, PROJECT_DIR


class StackFileError(Exception):
    """The stack file cannot be read; each entry of `problems` is one line for the user."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _as_engine_value(value: Any) -> str:
    if value is None:
        return ""  # `key:` with no value: an empty string, as the engine passes it
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _full_key(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def project_defaults(project_file: Path = PROJECT_DIR / "Pulumi.yaml") -> dict[str, Any]:
    """Declared defaults and plain values of the project's `config:` block, by full key."""
    project = yaml.safe_load(project_file.read_text()) or {}
    defaults: dict[str, Any] = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            defaults[_full_key(key)] = declaration["default"]
        elif isinstance(declaration, dict) and "value" in declaration:
            defaults[_full_key(key)] = declaration["value"]
        elif not isinstance(declaration, dict):
            defaults[_full_key(key)] = declaration
    return defaults


def _read_document(path: Path) -> Any:
    """The parsed YAML of a stack file; StackFileError (one line naming the file) if unreadable."""
    if not path.is_file():
        raise StackFileError([f"{path}: no such stack file"])
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StackFileError(
            [f"{path}: cannot be read ({error.strerror or error}): check its permissions"]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StackFileError(
            [
                f"{path}: is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}): "
                "save it as UTF-8"
            ]
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "cannot be parsed"
        raise StackFileError([f"{path}{where}: not valid YAML: {problem}"]) from None
    except yaml.YAMLError as error:
        raise StackFileError([f"{path}: not valid YAML: {error}".replace("\n", " ")]) from None


# The top-level keys of a stack file: the fields of `ProjectStack` in the Pulumi CLI
# (sdk/go/common/workspace/project.go: secretsprovider, encryptedkey, encryptionsalt, config,
# environment; read 2026-11-30).
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key.lower(), STACK_FILE_KEYS, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {json.dumps(value)}"
    return f"the value {json.dumps(value, default=str)}"


def load_stack_file(path: Path, project_file: Path = PROJECT_DIR / "Pulumi.yaml") -> dict[str, str]:
    """Engine-style config (`{"poolside:kms": "{...}", "aws:region": "us-east-1"}`) for a stack."""
    document = _read_document(path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise StackFileError(
            [
                f"{path}: must be a mapping with a top-level `config:` block of keys "
                f"(got {_kind(document)})"
            ]
        )
    outside = [str(key) for key in document if ":" in str(key)]
    if outside:
        raise StackFileError(
            [
                f"{path}: {', '.join(outside)} {'is' if len(outside) == 1 else 'are'} outside the "
                "`config:` block: put the keys under `config:` (indented below it)"
            ]
        )
    unknown = [str(k) for k in document if ":" not in str(k) and k not in STACK_FILE_KEYS]
    if unknown:
        raise StackFileError(
            [
                f"{path}: {key}: not a top-level key of a stack file "
                f"({', '.join(STACK_FILE_KEYS)}){_did_you_mean(key)}"
                for key in unknown
            ]
        )
    stack_config = document.get("config") or {}
    if not isinstance(stack_config, dict):
        raise StackFileError([f"{path}: 'config' must be a mapping of keys to values"])
    problems = [
        f"{key}: is a secret; the offline preview cannot decrypt it (use `pulumi preview`)"
        for key, value in stack_config.items()
        if isinstance(value, dict) and "secure" in value
    ]
    if problems:
        raise StackFileError(problems)
    merged = {
        **project_defaults(project_file),
        **{_full_key(str(k)): v for k, v in stack_config.items()},
    }
    return {key: _as_engine_value(value) for key, value in merged.items()}
