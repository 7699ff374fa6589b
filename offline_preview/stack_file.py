"""Read `Pulumi.yaml` and a stack file into the config map the engine would pass the program.

The engine merges the project's declared defaults under the stack's values and passes every value
as a string (objects and lists as JSON). This does the same, so the program reads identical input
under `pulumi preview` and under the offline preview.
"""

from __future__ import annotations

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


def load_stack_file(path: Path, project_file: Path = PROJECT_DIR / "Pulumi.yaml") -> dict[str, str]:
    """Engine-style config (`{"poolside:kms": "{...}", "aws:region": "us-east-1"}`) for a stack."""
    if not path.is_file():
        raise StackFileError([f"{path}: no such stack file"])
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError([f"{path}: not valid YAML: {error}".replace("\n", " ")]) from None
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
        **{_full_key(k): v for k, v in stack_config.items()},
    }
    return {key: _as_engine_value(value) for key, value in merged.items()}
