"""The policy pack: every rule of `rules.py` as a mandatory CrossGuard policy.

`pulumi preview --policy-pack policy` starts the pack in its own virtualenv (`policy/venv`, as
PulumiPolicy.yaml says) by running `python -u -m pulumi.policy <engine> <pack directory>` with
the pack directory as the working directory; that executes this file as a script, so the pack's
modules are not a package yet. `_import_pack_as_package` makes the directory importable as
`policy` whatever it is called (a published pack is unpacked under another name); the rules
then import each other as they do offline and in the tests. Nothing of the project outside this
directory is imported.

Resource rules run on each resource's inputs before it is created or changed; stack rules on
every resource's outputs once the program has registered them all. The SDK's property proxies
raise on a value unknown during a preview; the adapter turns such values into the rules'
`UNKNOWN`, reports every violation it can see, and then raises the SDK's `UnknownValueError`
once, which the SDK reports as an advisory "can't run policy ... during preview": the rule is
enforced at `pulumi up`, when the values are known (failing closed would fail every first
preview of a stack, whose IRSA trust policies name an OIDC provider that does not exist yet).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PACKAGE = "policy"
PACK_NAME = "poolside-guardrails"


def _import_pack_as_package() -> None:
    if PACKAGE in sys.modules:  # imported as `policy.__main__` (the tests)
        return
    directory = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        PACKAGE, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)


_import_pack_as_package()

# The pack's own modules and the SDK, once `policy` is importable.
from collections.abc import Mapping, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    Policy,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError  # noqa: E402

from policy.model import (  # noqa: E402
    NOT_CHECKED,
    UNKNOWN,
    Finding,
    Resource,
    ResourceRule,
    Rule,
    Stack,
    StackRule,
    evaluate,
)
from policy.rules import RULES  # noqa: E402


def plain(value: Any) -> Any:
    """A value behind the SDK's proxies as plain data; one it cannot know yet as `UNKNOWN`."""
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _stack_resource(resource: PolicyResource) -> Resource:
    return Resource(
        type=resource.resource_type,
        urn=resource.urn,
        props=plain(resource.props),
        property_dependencies={
            key: tuple(source.urn for source in sources)
            for key, sources in resource.property_dependencies.items()
        },
    )


def _report(findings: list[Finding], report_violation: ReportViolation, *, by_urn: bool) -> None:
    for finding in findings:
        if not finding.unchecked:
            report_violation(finding.message, finding.urn if by_urn else None)
    unchecked = [f"{f.urn}: {f.message.removeprefix(NOT_CHECKED)}" for f in findings if f.unchecked]
    if unchecked:
        error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
        error.message = "; ".join(unchecked)
        raise error


def _resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        resource = Resource(type=args.resource_type, urn=args.urn, props=plain(args.props))
        _report(evaluate(rule, resource), report_violation, by_urn=False)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = Stack(_stack_resource(r) for r in args.resources)
        findings = [
            finding
            for resource in stack.of_type(rule.types)
            for finding in evaluate(rule, resource, stack)
        ]
        _report(sorted(findings), report_violation, by_urn=True)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policy(rule: Rule) -> Policy:
    if isinstance(rule, StackRule):
        return _stack_policy(rule)
    return _resource_policy(rule)


def policies() -> list[Policy]:
    """Every rule as a mandatory policy, in the order of `RULES`."""
    return [policy(rule) for rule in RULES]


if __name__ == "__main__":
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="Poolside on AWS: IAM grants and IRSA trust, data at rest, EC2 and ingress.",
    )
