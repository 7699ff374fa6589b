"""Parsing the `poolside` namespace into a `StackConfig`, and the one-line error messages.

Every problem is reported at once, one line per problem naming the full key
(`poolside:kms.deletionWindowInDays: ...`), before a single resource is registered.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from stack_config.base import section_model
from stack_config.errors import CrossFieldError, StackConfigError
from stack_config.provider import AWS_NAMESPACE, aws_config_keys, aws_key_problems
from stack_config.rules import cross_section_problems
from stack_config.sections import StackConfig

NAMESPACE = "poolside"


def key_path(loc: Iterable[str | int]) -> str:
    """The full key of a location, as messages name it: `poolside:cluster.nodeGroups[0].name`."""
    path = NAMESPACE + ":"
    first = True
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif first:
            path += part
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
        first = False
    return path


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue  # an index into a list of sections: same model as the list's items
        fields = {f.alias: f for f in model.model_fields.values()}
        field = fields.get(part)
        nested = section_model(field.annotation) if field else None
        if nested is None:
            return None
        model = nested
    return model


def _did_you_mean(loc: tuple[str | int, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    known = [f.alias for f in model.model_fields.values() if f.alias]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if str(loc[-1]).lower() in lowered:
            close = [lowered[str(loc[-1]).lower()]]
    return f"; did you mean {key_path((*loc[:-1], close[0]))}?" if close else ""


def _unknown_key_hint(loc: tuple[str | int, ...]) -> str:
    """What to do about an unknown key: the provider's key, the nesting, or the closest key."""
    if len(loc) == 1 and isinstance(loc[0], str):
        name = loc[0]
        if name in aws_config_keys():
            return f"; did you mean {AWS_NAMESPACE}:{name}?"
        section, dot, rest = name.partition(".")
        if dot and section in _section_aliases():
            full = f"{NAMESPACE}:{section}"
            inner = rest.split(".", 1)[0]
            return (
                f"; sections nest in a stack file: write `{full}:` and `{inner}:` indented below "
                f"it (or `pulumi config set --path {NAMESPACE}:{name} <value>`)"
            )
    return _did_you_mean(loc)


def _section_aliases() -> set[str]:
    return {
        field.alias
        for field in StackConfig.model_fields.values()
        if field.alias and section_model(field.annotation) is not None
    }


def shown(value: Any) -> str:
    """A value as messages show it (`(got ...)`): JSON."""
    return json.dumps(value, default=str)


def format_errors(error: ValidationError) -> list[str]:
    """One line per problem: `poolside:<key>: <what is allowed> (got <value>)`."""
    lines: list[str] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, CrossFieldError):
            lines.extend(
                f"{key_path((*loc, *(key if isinstance(key, tuple) else key.split('.'))))}: {msg}"
                for key, msg in cause.problems
            )
            continue
        kind = err["type"]
        if kind == "missing":
            lines.append(f"{key_path(loc)}: required")
            continue
        if kind == "extra_forbidden":
            lines.append(f"{key_path(loc)}: unknown key{_unknown_key_hint(loc)}")
            continue
        message = err["msg"]
        message = message.removeprefix("Value error, ")
        message = re.sub(r"^Input should be ", "must be ", message)
        message = message.replace("Input should be", "must be")
        lines.append(f"{key_path(loc)}: {message} (got {shown(err['input'])})")
    return lines


def _decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Values arrive as strings, objects and lists as JSON text, as the engine sends them.

    Text that is not valid JSON is left as it is: the model then reports it as the wrong type,
    naming its key.
    """
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        decoded[key] = value
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            with contextlib.suppress(json.JSONDecodeError):
                decoded[key] = json.loads(value)
    return decoded


def _valid_or_none(annotation: Any, value: Any) -> Any:
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return None


def _cross_section_lines_beside(raw: Mapping[str, Any]) -> list[str]:
    """When some sections are invalid, the cross-section rules over the valid ones."""
    if not isinstance(raw, Mapping):
        return []
    fields = StackConfig.model_fields
    sections: dict[str, Any] = {}
    for name in (
        "deployment_name",
        "deployment_prefix",
        "cluster",
        "bastion",
        "addons",
        "bucket",
        "inference",
    ):
        field = fields[name]
        alias = field.alias or name
        if alias in raw:
            value = raw[alias]
        elif field.is_required():
            sections[name] = None
            continue
        else:
            value = field.get_default(call_default_factory=True)
        annotation = (
            Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        )
        sections[name] = _valid_or_none(annotation, value)
    if raw.get("deploymentPrefix") not in (None, "") and sections["deployment_prefix"] is None:
        return []  # an invalid explicit prefix: no rule may assume the default one
    return [
        f"{key_path(key if isinstance(key, tuple) else tuple(key.split('.')))}: {message}"
        for key, message in cross_section_problems(**sections)
    ]


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate the namespace's keys (without the `poolside:` prefix); raise StackConfigError.

    Pydantic runs a model's cross-field rules only once its fields are valid, so with an error
    anywhere the cross-section rules would wait for the next run; they are run here over the
    sections that are valid, so that every problem is reported at once.
    """
    decoded = _decode(raw)
    try:
        return StackConfig.model_validate(decoded)
    except ValidationError as error:
        lines = format_errors(error)
        lines += [line for line in _cross_section_lines_beside(decoded) if line not in lines]
        raise StackConfigError(lines) from None


def namespace_config(namespace: str = NAMESPACE) -> dict[str, Any]:
    """Every key the engine passed for `namespace`, so that unknown keys can be refused.

    `pulumi.Config` can only read keys it is asked for; to refuse a typo we need them all. The
    Python SDK keeps them in `pulumi.runtime.config.CONFIG` (set by the mock engine and by
    automation) and the language host passes them in `PULUMI_CONFIG`; both are read here.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    prefix = namespace + ":"
    return {k[len(prefix) :]: v for k, v in merged.items() if k.startswith(prefix)}


def load_stack_config() -> StackConfig:
    """Read and validate the stack's `poolside:*` keys once; raise StackConfigError if invalid.

    The `aws:` keys are checked beside them (unknown keys, a region the provider does not know);
    a missing `aws:region` is the provider's to report, as it may come from `AWS_REGION`.
    """
    aws = {f"{AWS_NAMESPACE}:{k}": v for k, v in namespace_config(AWS_NAMESPACE).items()}
    problems = aws_key_problems(aws, region_required=False)
    try:
        config = parse_stack_config(namespace_config())
    except StackConfigError as error:
        raise StackConfigError(problems + error.problems) from None
    if problems:
        raise StackConfigError(problems)
    return config
