"""The base of every config section, and what sections share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from stack_config.errors import Problem

SectionT = TypeVar("SectionT", bound=BaseModel)


class Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


def switched_off_problems(section: Section, key: str) -> list[Problem]:
    """Settings of a section that is switched off: silently ignored, hence refused, one line
    per key, naming the section's `enabled` key."""
    if getattr(section, "enabled", True):
        return []
    enabled = f"poolside:{key}.enabled"
    return [
        (
            to_camel(name),
            f"only applies when {enabled} is true; remove it, or set {enabled} to true",
        )
        for name in type(section).model_fields
        if name != "enabled" and name in section.model_fields_set
    ]


def defaults(model: type[SectionT]) -> Callable[[], SectionT]:
    """The default of a section field: the section with every key at its default."""
    return lambda: model.model_validate({})


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a section field, or of the items of a list-of-sections field."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None
