"""The config reference, generated from the field descriptions (docs/configuration.md and
Pulumi.yaml use it).

`python -m stack_config --markdown` prints it; `--write docs/configuration.md` (`make docs`)
rewrites the document's copy between its markers; a test keeps both equal.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from pydantic import BaseModel

from stack_config.base import section_model
from stack_config.parsing import NAMESPACE
from stack_config.sections import StackConfig


def _type_name(annotation: Any) -> str:
    if annotation is Any:  # a removed key, kept only to refuse it with a clear line
        return "(removed)"
    text = str(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    if section_model(annotation) is not None:
        return "list of objects"
    if isinstance(annotation, type):
        return {"str": "string", "int": "integer", "bool": "boolean", "dict": "map"}.get(
            annotation.__name__, annotation.__name__
        )
    if "list" in text:
        return "list of strings"
    if "dict" in text:
        return "map of strings"
    if "Literal" in text:
        return "string"
    if "int" in text:
        return "integer"
    if "bool" in text:
        return "boolean"
    return "string"


def _default_text(field: Any) -> str:
    if field.is_required():
        return "(required)"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return ""
        return f"`{json.dumps(value)}`"
    if field.default is None:
        return "see description"
    return f"`{json.dumps(field.default)}`"


def reference_rows(
    model: type[BaseModel] = StackConfig, prefix: str = ""
) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every key, sections expanded."""
    rows: list[tuple[str, str, str, str]] = []
    for field in model.model_fields.values():
        key = f"{prefix}{field.alias}"
        annotation = field.annotation
        rows.append(
            (
                f"{NAMESPACE}:{key}",
                _type_name(annotation),
                _default_text(field),
                field.description or "",
            )
        )
        nested = section_model(annotation)
        if nested is not None:
            separator = "." if nested is annotation else "[]."
            rows.extend(reference_rows(nested, prefix=f"{key}{separator}"))
    return rows


def reference_markdown() -> str:
    """The reference as a markdown table, one row per key."""
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    lines += [f"| `{k}` | {t} | {d} | {desc} |" for k, t, d, desc in reference_rows()]
    return "\n".join(lines)


REFERENCE_MARKERS = ("<!-- config-reference:start -->", "<!-- config-reference:end -->")


def write_reference(path: str) -> None:
    """Replace the document's config reference (between its markers) with the generated one."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start, end = REFERENCE_MARKERS
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{before}{start}\n{reference_markdown()}\n{end}{after}")


def main(argv: list[str]) -> None:
    """`python -m stack_config --markdown | --write docs/configuration.md` (`argv`: no program)."""
    if argv == ["--markdown"]:
        print(reference_markdown())
    elif argv[:1] == ["--write"] and len(argv) == 2:
        write_reference(argv[1])
    else:
        print(
            "usage: python -m stack_config --markdown | --write docs/configuration.md",
            file=sys.stderr,
        )
        sys.exit(os.EX_USAGE)
