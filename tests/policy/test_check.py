"""`python -m policy.check PLAN.json`: the example stacks pass, the output is one sorted line
per violation, the exit codes, and what a plan cannot show.

The rules' own cases are in `test_rules.py`; here the command around them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policy.rules import RULES
from tests.support.harness import PROJECT_ROOT
from tests.support.plans import (
    STACKS,
    add_state,
    check_plan,
    plan,
    plan_text,
    run_check,
    state,
)

POLICY = "aws:iam/policy:Policy"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_example_stacks_pass(stack: str) -> None:
    p = plan(stack)
    check = check_plan(p)
    assert (check.exit_code, check.stdout) == (0, "")
    assert check.stderr == f"{len(RULES)} rules on {len(p['steps'])} resources: no violations\n"


def _violating_plan() -> tuple[dict[str, Any], str, str]:
    """The dev plan with an open ingress and a key that does not rotate."""
    p = plan("dev")
    group = state(p, "aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    group["inputs"]["ingress"] = [{"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}]
    key = state(p, "aws:kms/key:Key", "kms-key")
    key["inputs"]["enableKeyRotation"] = False
    return p, group["urn"], key["urn"]


def test_one_line_per_violation_sorted_by_rule_then_urn() -> None:
    p, group, key = _violating_plan()
    check = check_plan(p)
    assert check.lines == [
        f"ec2-no-world-ingress  {group}  ingress[0] admits 0.0.0.0/0: internet-wide (a prefix "
        "shorter than /8, or /16 for IPv6); name the sources (a security group, or the networks "
        "that need it)",
        f"kms-key-rotation  {key}  enableKeyRotation is not true: a symmetric key must rotate "
        "its key material",
    ]
    assert check.stderr == f"{len(RULES)} rules on {len(p['steps'])} resources: 2 violations\n"
    assert check.exit_code == 1


def test_the_output_does_not_depend_on_the_plans_order() -> None:
    p, _, _ = _violating_plan()
    first = check_plan(p)
    p["steps"].reverse()
    assert check_plan(p) == first


def test_as_a_command_reading_stdin() -> None:
    """What a user runs: `python -m offline_preview --format json | python -m policy.check -`."""
    p, _, _ = _violating_plan()
    runs = [
        subprocess.run(
            [sys.executable, "-m", "policy.check", "-"],
            input=text,
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            check=False,
        )
        for text in (plan_text("dev"), json.dumps(p))
    ]
    assert [(r.returncode, r.stdout) for r in runs] == [
        (0, ""),
        (1, check_plan(p).stdout),
    ]
    assert runs[1].stdout.count("\n") == 2


def test_deleted_resources_are_not_judged() -> None:
    p = plan("dev")
    steps = len(p["steps"])
    urn = add_state(p, "aws:kms/key:Key", "old-key", {"enableKeyRotation": False})
    p["steps"][-1]["op"] = "delete"
    check = check_plan(p)
    assert (check.exit_code, check.lines) == (0, [])
    assert urn not in check.stdout
    assert check.stderr == f"{len(RULES)} rules on {steps} resources: no violations\n"


# -- What a plan cannot show fails the rules that need it ----------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (UNKNOWN_STRING, "is unknown until the resources it depends on exist"),
        ("[secret]", "is a secret the plan does not show"),
        ({**SECRET_SIG, "ciphertext": "AAAA"}, "is a secret the plan does not show"),
    ],
    ids=["unknown", "secret as printed", "secret with no plaintext"],
)
def test_an_opaque_policy_is_not_passed(value: Any, why: str) -> None:
    p = plan("dev")
    found = state(p, POLICY, "pod-pod-s3-access")
    found["inputs"]["policy"] = value
    check = check_plan(p)
    urn = found["urn"]
    assert check.lines == [
        f"iam-managed-policy-size  {urn}  not checked: policy {why}",
        f"iam-no-wildcard-actions  {urn}  not checked: policy {why}",
        f"iam-star-resource-scoped  {urn}  not checked: policy {why}",
    ]
    assert check.exit_code == 1


def test_a_secret_with_its_value_is_judged_by_the_value() -> None:
    p = plan("dev")
    found = state(p, POLICY, "pod-pod-s3-access")
    found["inputs"]["policy"] = {**SECRET_SIG, "value": found["inputs"]["policy"]}
    assert check_plan(p).lines == []
    found["inputs"]["policy"] = {
        **SECRET_SIG,
        "value": json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    }
    assert [line.split("  ")[0] for line in check_plan(p).lines] == [
        "iam-no-wildcard-actions",
        "iam-star-resource-scoped",
    ]


def test_a_violation_found_before_an_unknown_value_is_kept() -> None:
    p = plan("dev")
    role = state(p, "aws:iam/role:Role", "inference-role")
    role["inputs"]["inlinePolicies"] = [
        {"name": "open", "policy": json.dumps({"Statement": {"Effect": "Allow", "Action": "*"}})},
        {"name": "later", "policy": UNKNOWN_STRING},
    ]
    lines = [line for line in check_plan(p).lines if line.startswith("iam-no-wildcard-actions")]
    urn = role["urn"]
    assert lines == [
        f"iam-no-wildcard-actions  {urn}  inline policy open Statement[0]: allows '*', every "
        "action of every service; list the actions the principal needs",
        f"iam-no-wildcard-actions  {urn}  not checked: inlinePolicies[1].policy is unknown "
        "until the resources it depends on exist",
    ]


def test_a_setting_whose_bucket_is_unknown_leaves_its_rule_unchecked() -> None:
    """Versioning that names its bucket by an unknown value and no dependency could be the
    bucket's: the rule says so, rather than that the bucket has none."""
    p = plan("dev")
    versioning = state(p, "aws:s3/bucketVersioning:BucketVersioning", "data-versioning")
    versioning["inputs"]["bucket"] = UNKNOWN_STRING
    versioning["propertyDependencies"] = {}
    bucket = state(p, "aws:s3/bucket:Bucket", "data-bucket")["urn"]
    assert check_plan(p).lines == [
        f"s3-bucket-versioning  {bucket}  not checked: bucket of {versioning['urn']} is unknown "
        "until the resources it depends on exist"
    ]


def test_a_bucket_named_by_the_provider_cannot_be_checked_for_tls() -> None:
    p = plan("dev")
    bucket = state(p, "aws:s3/bucket:Bucket", "models-bucket")
    del bucket["inputs"]["bucket"]
    assert check_plan(p).lines == [
        f"s3-bucket-tls-only  {bucket['urn']}  not checked: bucket is unknown until the "
        "resources it depends on exist"
    ]


# -- Not a plan ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{}",
            "not a plan: no `steps` list (expected the JSON of `python -m offline_preview "
            "--format json` or `pulumi preview --json`)",
        ),
        ("plan", "not JSON: Expecting value: line 1 column 1 (char 0)"),
        (
            '{"steps": [{"newState": {"type": "aws:kms/key:Key"}}]}',
            "steps[0].newState has no `urn` or `type`",
        ),
    ],
    ids=["no steps", "not JSON", "no URN"],
)
def test_a_file_that_is_not_a_plan_exits_2(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    check = run_check(str(path))
    assert (check.exit_code, check.stdout, check.stderr) == (2, "", f"{path}: {message}\n")


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    check = run_check(str(path))
    assert (check.exit_code, check.stdout) == (2, "")
    assert check.stderr == (
        f"{path}: cannot read the plan: [Errno 2] No such file or directory: '{path}'\n"
    )


def test_a_replaced_resource_is_judged_once() -> None:
    """`pulumi preview --json` shows a replacement as several steps of one URN."""
    p = plan("dev")
    [step] = [s for s in p["steps"] if s["urn"].endswith("::kms-key")]
    step["newState"]["inputs"]["enableKeyRotation"] = False
    index = p["steps"].index(step)
    p["steps"][index : index + 1] = [
        {**step, "op": "create-replacement"},
        {**step, "op": "replace"},
        {"op": "delete-replaced", "urn": step["urn"], "oldState": step["newState"]},
    ]
    check = check_plan(p)
    assert check.lines == [
        f"kms-key-rotation  {step['urn']}  enableKeyRotation is not true: a symmetric key must "
        "rotate its key material"
    ]
    assert (
        check.stderr
        == f"{len(RULES)} rules on {len(plan('dev')['steps'])} resources: 1 violation\n"
    )
