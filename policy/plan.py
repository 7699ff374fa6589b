"""A JSON plan as the rules' resources: `python -m offline_preview --format json`, or the same
shape from `pulumi preview --json`.

Each step's `newState` is a resource of the stack after the update (steps that delete one are
left out); its `inputs` are what the rules judge, as the engine's resource validation does. The
stack's root resource (`pulumi:pulumi:Stack`) holds the plan's `outputs` too, as the engine's
stack validation sees the stack's exports (`iam-trust-own-account` reads `accountId`).
Values a plan cannot show become `Opaque`: Pulumi's unknown placeholders (a preview before the
resources a value depends on exist) and secrets (`[secret]`, or a secret's wire signature with
no plaintext).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.model import HIDDEN, UNKNOWN, Resource

# Pulumi's placeholders for values unknown during a preview (one per kind of value), as the
# engine serialises them (sdk/go/common/resource/plugin/rpc.go).
UNKNOWN_PLACEHOLDERS = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (also the state's computed value)
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
SECRET_TEXT = "[secret]"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# Steps whose resource is not in the stack afterwards.
_GONE = frozenset(
    {"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"}
)


STACK = "pulumi:pulumi:Stack"


class PlanError(Exception):
    """The file is not a plan; the message is one line."""


def plain(value: Any) -> Any:
    """A plan's value with what it cannot show as `Opaque`."""
    if isinstance(value, str):
        if value in UNKNOWN_PLACEHOLDERS:
            return UNKNOWN
        return HIDDEN if value == SECRET_TEXT else value
    if isinstance(value, Mapping):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return plain(value["value"]) if "value" in value else HIDDEN
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def resources(plan: Any) -> list[Resource]:
    """The resources of the stack the plan leads to, one per URN, in the plan's order."""
    steps = plan.get("steps") if isinstance(plan, Mapping) else None
    if not isinstance(steps, list):
        raise PlanError(
            "not a plan: no `steps` list (expected the JSON of `python -m offline_preview "
            "--format json` or `pulumi preview --json`)"
        )
    found: dict[str, Resource] = {}
    for index, step in enumerate(steps):
        state = step.get("newState") if isinstance(step, Mapping) else None
        if not isinstance(state, Mapping) or step.get("op") in _GONE:
            continue
        urn, type_ = state.get("urn"), state.get("type")
        if not isinstance(urn, str) or not isinstance(type_, str):
            raise PlanError(f"steps[{index}].newState has no `urn` or `type`")
        dependencies = state.get("propertyDependencies") or {}
        props = state.get("inputs") or {}
        if type_ == STACK:  # the stack's exports, as the engine's stack validation sees them
            for outputs in (state.get("outputs"), plan.get("outputs")):
                if isinstance(outputs, Mapping):
                    props = {**outputs, **props}
        found.setdefault(
            urn,
            Resource(
                type=type_,
                urn=urn,
                props=plain(props),
                property_dependencies={k: tuple(v) for k, v in dependencies.items()},
            ),
        )
    return list(found.values())
