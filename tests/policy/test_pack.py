"""The policy pack as Pulumi runs it: every rule registered as a mandatory policy, and the
pack's verdicts through the policy SDK's own analyzer service.

Pulumi starts a Python pack with `python -u -m pulumi.policy <engine> <pack directory>` in the
pack directory (pulumi-language-python's RunPlugin); `pack` below does exactly that with the
project's virtualenv (which holds the pack's requirements, a test keeps them equal), and talks
to the gRPC server the SDK starts as the engine would: GetAnalyzerInfo, Analyze (one resource's
inputs, before it is created) and AnalyzeStack (every resource, at the end).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

import policy.__main__ as pack_module
from policy.model import ResourceRule, StackRule
from policy.rules import RULES
from tests.support.harness import PROJECT_ROOT
from tests.support.plans import add_state, check_plan, plan, state

PACK_DIR = PROJECT_ROOT / "policy"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
MANDATORY, ADVISORY = analyzer_pb2.MANDATORY, analyzer_pb2.ADVISORY


def test_every_rule_is_registered_as_a_mandatory_policy() -> None:
    policies = pack_module.policies()
    assert [p.name for p in policies] == [rule.name for rule in RULES]
    assert len({rule.name for rule in RULES}) == len(RULES)
    for rule, registered in zip(RULES, policies, strict=True):
        assert registered.enforcement_level == EnforcementLevel.MANDATORY
        assert registered.description == rule.description
        kind = StackValidationPolicy if isinstance(rule, StackRule) else ResourceValidationPolicy
        assert isinstance(registered, kind), rule.name


def test_the_rules_are_resource_rules_unless_they_need_the_stack() -> None:
    stack_rules = {rule.name for rule in RULES if isinstance(rule, StackRule)}
    assert stack_rules == {
        "s3-bucket-kms-encryption",
        "s3-bucket-versioning",
        "s3-bucket-public-access-block",
        "s3-bucket-tls-only",
        "iam-role-inline-policies-size",
        "iam-role-managed-policy-count",
        "iam-aws-managed-policies",
        "iam-trust-own-account",
    }
    assert all(isinstance(rule, ResourceRule | StackRule) for rule in RULES)


def _requirements(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.split("[")[0]] = version
    return pins


def test_the_pack_pins_the_versions_the_project_tests_with() -> None:
    project = {
        **_requirements(PROJECT_ROOT / "requirements.txt"),
        **_requirements(PROJECT_ROOT / "requirements-dev.txt"),
    }
    pack = _requirements(PACK_DIR / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy", "policy-sentry"}
    assert pack == {name: project[name] for name in pack}


def test_the_pack_names_its_own_virtualenv() -> None:
    """Pulumi gives a Python policy pack no default virtualenv (only plugins get `venv`)."""
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


# -- The pack, run as Pulumi runs it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the pack directory
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(PACK_DIR)],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            pytest.fail(f"the pack did not start: {port!r} {process.communicate()[1]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.communicate()


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def _resource(newState: dict[str, Any]) -> analyzer_pb2.AnalyzerResource:  # noqa: N803
    return analyzer_pb2.AnalyzerResource(
        type=newState["type"],
        urn=newState["urn"],
        name=newState["urn"].rsplit("::", 1)[-1],
        properties=_struct(newState["inputs"]),
        parent=newState.get("parent", ""),
        dependencies=newState.get("dependencies", []),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
            for key, urns in newState.get("propertyDependencies", {}).items()
        },
    )


def _analyze(pack: analyzer_pb2_grpc.AnalyzerStub, newState: dict[str, Any]) -> list[Any]:  # noqa: N803
    resource = _resource(newState)
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type, urn=resource.urn, name=resource.name, properties=resource.properties
    )
    return list(pack.Analyze(request).diagnostics)


def _analyze_stack(pack: analyzer_pb2_grpc.AnalyzerStub, planned: dict[str, Any]) -> list[Any]:
    # The engine gives stack validation each resource's outputs: the root stack's are its exports
    # (`iam-trust-own-account` reads `accountId`); the plan's inputs stand in for the others'.
    resources = [
        _resource(
            {**step["newState"], "inputs": planned["outputs"]}
            if step["newState"]["type"] == "pulumi:pulumi:Stack"
            else step["newState"]
        )
        for step in planned["steps"]
    ]
    request = analyzer_pb2.AnalyzeStackRequest(resources=resources)
    return list(pack.AnalyzeStack(request).diagnostics)


def _seen(diagnostics: list[Any]) -> list[tuple[str, str, int, str]]:
    return sorted((d.policyName, d.urn, d.enforcementLevel, d.message) for d in diagnostics)


def test_the_pack_lists_every_rule_as_mandatory(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "poolside-guardrails"
    assert [(p.name, p.description, p.enforcementLevel) for p in info.policies] == [
        (rule.name, rule.description, MANDATORY) for rule in RULES
    ]


@pytest.mark.parametrize("stack", ["dev", "govcloud", "china"])
def test_the_example_stacks_pass_the_pack(pack: analyzer_pb2_grpc.AnalyzerStub, stack: str) -> None:
    planned = plan(stack)
    assert [d for step in planned["steps"] for d in _analyze(pack, step["newState"])] == []
    assert _analyze_stack(pack, planned) == []


def test_a_resource_violation_blocks_that_resource(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    planned = plan("dev")
    found = state(planned, "aws:ec2/instance:Instance", "bastion-instance")
    found["inputs"]["metadataOptions"]["httpTokens"] = "optional"
    [rule] = [r for r in RULES if r.name == "ec2-imdsv2-required"]
    assert _seen(_analyze(pack, found)) == [
        (
            rule.name,
            "",  # the resource analysed
            MANDATORY,
            f"{rule.description}\nmetadataOptions.httpTokens is 'optional': set 'required' "
            "(IMDSv2 only; IMDSv1 answers any request that reaches it)",
        )
    ]


def test_a_stack_violation_names_the_bucket(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    planned = plan("dev")
    versioning = state(planned, "aws:s3/bucketVersioning:BucketVersioning", "data-versioning")
    versioning["inputs"]["versioningConfiguration"]["status"] = "Suspended"
    bucket = state(planned, "aws:s3/bucket:Bucket", "data-bucket")["urn"]
    [rule] = [r for r in RULES if r.name == "s3-bucket-versioning"]
    assert _seen(_analyze_stack(pack, planned)) == [
        (
            rule.name,
            bucket,
            MANDATORY,
            f"{rule.description}\ndata-versioning sets versioning 'Suspended': it must be "
            "'Enabled'",
        )
    ]


def test_an_aws_managed_policy_attachment_is_refused_by_urn(
    pack: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    """The engine hands stack rules every resource with its property dependencies: the
    attachment of AdministratorAccess to the pod role is named, and the program's own
    attachments pass."""
    planned = plan("dev")
    role = state(planned, "aws:iam/role:Role", "pod-role")
    urn = add_state(
        planned,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "pod-admin",
        {
            "role": role["inputs"]["name"],
            "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
        },
        {"role": [role["urn"]]},
    )
    [rule] = [r for r in RULES if r.name == "iam-aws-managed-policies"]
    assert _seen(_analyze_stack(pack, planned)) == [
        (
            rule.name,
            urn,
            MANDATORY,
            f"{rule.description}\n'arn:aws:iam::aws:policy/AdministratorAccess' is an "
            "AWS-managed policy policy/iam_allowlist.py does not list: grant the actions needed "
            "in a customer-managed policy, or list it with the role it is for and the reason",
        )
    ]


def test_a_value_unknown_in_a_preview_is_advised_not_failed(
    pack: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    """During a preview the engine sends its placeholder for a value it cannot know yet; the
    pack says it could not run (advisory) and judges the value at `pulumi up`."""
    planned = plan("dev")
    found = state(planned, "aws:iam/policy:Policy", "pod-pod-s3-access")
    found["inputs"]["policy"] = UNKNOWN_STRING
    why = f"{found['urn']}: policy is unknown until the resources it depends on exist"
    assert _seen(_analyze(pack, found)) == [
        (
            name,
            "",
            ADVISORY,
            f"can't run policy '{name}' from policy pack 'poolside-guardrails@v0.0.1' during "
            f"preview: {why}",
        )
        for name in (
            "iam-managed-policy-size",
            "iam-no-wildcard-actions",
            "iam-star-resource-scoped",
        )
    ]


def test_an_unknown_value_hides_no_other_violation_of_the_stack(
    pack: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    planned = plan("dev")
    models = state(planned, "aws:s3/bucketVersioning:BucketVersioning", "models-versioning")
    models["inputs"]["versioningConfiguration"] = UNKNOWN_STRING
    data = state(planned, "aws:s3/bucketVersioning:BucketVersioning", "data-versioning")
    data["inputs"]["versioningConfiguration"]["status"] = "Suspended"
    [rule] = [r for r in RULES if r.name == "s3-bucket-versioning"]
    models_bucket = state(planned, "aws:s3/bucket:Bucket", "models-bucket")["urn"]
    assert _seen(_analyze_stack(pack, planned)) == [
        (
            rule.name,
            "",
            ADVISORY,
            f"can't run policy '{rule.name}' from policy pack 'poolside-guardrails@v0.0.1' "
            f"during preview: {models_bucket}: versioningConfiguration of {models['urn']} is "
            "unknown until the resources it depends on exist",
        ),
        (
            rule.name,
            state(planned, "aws:s3/bucket:Bucket", "data-bucket")["urn"],
            MANDATORY,
            f"{rule.description}\ndata-versioning sets versioning 'Suspended': it must be "
            "'Enabled'",
        ),
    ]


def test_the_adapter_reports_what_the_offline_check_reports() -> None:
    """A planted violation through the adapter in this process (the SDK's own proxy around the
    inputs) and offline: the same messages."""
    planned = plan("dev")
    found = state(planned, "aws:iam/role:Role", "pod-role")
    trust = json.loads(found["inputs"]["assumeRolePolicy"])
    del trust["Statement"][0]["Condition"]
    found["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    options = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(
        found["type"],
        unknown_checking_proxy(found["inputs"]),
        found["urn"],
        "pod-role",
        options,
        None,
    )
    reported: list[tuple[str, str | None]] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append((message, urn))

    [policy] = [p for p in pack_module.policies() if p.name == "iam-irsa-trust-conditions"]
    assert isinstance(policy, ResourceValidationPolicy)
    policy.validate(args, report_violation)
    offline = check_plan(planned).lines
    assert len(reported) == len(offline) == 2
    assert sorted(reported) == [(line.split("  ", 2)[2], None) for line in offline]
