"""The offline preview as users run it: `main(argv)` in this process, as `python -m offline_preview`
runs it, and that entry point once in a subprocess of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import PROJECT_ROOT
from tests.support.preview import Preview, run_preview


def preview(*args: str) -> Preview:
    """`python -m offline_preview <args>`, run in this process."""
    return run_preview(*args)


def test_the_entry_point_prints_what_main_prints() -> None:
    """The one run as users start it, in a process of its own: `python -m offline_preview`
    prints the plan `main` prints, exits 0, and shows no SDK deprecation notice."""
    result = subprocess.run(
        [sys.executable, "-m", "offline_preview", "--stack", "dev"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    in_process = preview("--stack", "dev")
    assert result.stdout == in_process.stdout


@pytest.fixture(scope="module")
def dev_json() -> dict[str, Any]:
    result = preview("--stack", "dev", "--format", "json")
    assert result.exit_code == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_json_is_shaped_like_pulumi_preview_json(dev_json: dict[str, Any]) -> None:
    assert set(dev_json) == {"steps", "outputs", "changeSummary"}
    assert dev_json["changeSummary"] == {"create": len(dev_json["steps"])}
    for step in dev_json["steps"]:
        assert set(step) == {"op", "urn", "newState"}
        assert step["op"] == "create"
        assert set(step["newState"]) == {
            "type",
            "urn",
            "custom",
            "parent",
            "inputs",
            "dependencies",
            "propertyDependencies",
            "protect",
            "retainOnDelete",
            # the resource options that decide a day-2 replacement, and renames
            "deleteBeforeReplace",
            "ignoreChanges",
            "replaceOnChanges",
            "aliases",
        }
        assert step["newState"]["urn"] == step["urn"]
        assert step["urn"].startswith("urn:pulumi:dev::poolside::")
    urns = {step["urn"] for step in dev_json["steps"]}
    for step in dev_json["steps"]:
        state = step["newState"]
        assert state["parent"] == "" or state["parent"] in urns
        assert set(state["dependencies"]) <= urns


def test_json_plan_is_the_same_every_run_and_lists_what_comes_first_first(
    dev_json: dict[str, Any],
) -> None:
    first = preview("--stack", "dev", "--format", "json")
    again = preview("--stack", "dev", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first.stdout  # byte for byte, so two plans diff cleanly
    assert json.loads(again.stdout) == dev_json
    position = {step["urn"]: index for index, step in enumerate(dev_json["steps"])}
    for index, step in enumerate(dev_json["steps"]):
        state = step["newState"]
        for before in [state["parent"], *state["dependencies"]]:
            if before:
                assert position[before] < index, (step["urn"], before)
        assert state["dependencies"] == sorted(state["dependencies"])
    # The cluster pulumi-eks creates inside its remote component is that component's child
    # (registrations run on several threads at once; each must keep its own parent).
    [inner] = [s for s in dev_json["steps"] if s["newState"]["type"] == "aws:eks/cluster:Cluster"]
    [component] = [s for s in dev_json["steps"] if s["newState"]["type"] == "eks:index:Cluster"]
    assert inner["newState"]["parent"] == component["urn"]


@pytest.mark.parametrize("stack", ["dev", "govcloud", "china"])
def test_text_plan_is_the_same_every_run(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Byte for byte, like the JSON: the IAM section must not follow the SDK's thread order."""
    from offline_preview.__main__ import main

    outputs = []
    for _ in range(4):
        assert main(["--stack", stack]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0]
    assert outputs[1:] == outputs[:1] * 3


def test_json_inputs_are_resolved_wire_names(dev_json: dict[str, Any]) -> None:
    by_type = {s["newState"]["type"]: s["newState"] for s in dev_json["steps"]}
    key = by_type["aws:kms/key:Key"]
    assert key["custom"] is True
    assert key["retainOnDelete"] is True
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["inputs"]["deletionWindowInDays"] == 30
    assert isinstance(key["inputs"]["deletionWindowInDays"], int)
    assert isinstance(key["inputs"]["policy"], str)
    assert json.loads(key["inputs"]["policy"])["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"
    }
    policies = {
        s["urn"].rsplit("::", 1)[1]: s["newState"]
        for s in dev_json["steps"]
        if s["newState"]["type"] == "aws:s3/bucketPolicy:BucketPolicy"
    }
    assert set(policies) == {"data-policy", "models-policy"}
    for name, bucket in (("data", "poolside-dev"), ("models", "poolside-dev-models")):
        statement = json.loads(policies[f"{name}-policy"]["inputs"]["policy"])["Statement"][0]
        assert statement["Resource"] == [
            f"arn:aws:s3:::{bucket}-123456789012",
            f"arn:aws:s3:::{bucket}-123456789012/*",
        ]
    assert dev_json["outputs"]["partition"] == "aws"
    assert dev_json["outputs"]["ecrRepositoryNames"] == {
        "api": "poolside-dev/api",
        "inference": "poolside-dev/inference",
        "web": "poolside-dev/web",
    }


def test_govcloud_stack_uses_its_partition_and_a_given_account() -> None:
    result = preview("--stack", "govcloud", "--format", "json", "--account-id", "210987654321")
    assert result.exit_code == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    assert outputs["partition"] == "aws-us-gov"
    assert outputs["bucketArn"] == "arn:aws-us-gov:s3:::poolside-gov-210987654321"
    assert outputs["kmsKeyArn"].startswith("arn:aws-us-gov:kms:us-gov-west-1:210987654321:key/")
    assert "arn:aws:" not in result.stdout


def test_text_plan_lists_resources_under_their_parents(dev_json: dict[str, Any]) -> None:
    result = preview("--stack", "dev")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    count = len(dev_json["steps"])
    assert lines[0] == f"Offline preview of stack 'dev': {count} resources to create"
    assert lines.count("") >= 3
    assert sum(1 for line in lines if line.lstrip().startswith("+ ")) == count
    assert "  + poolside-dev  pulumi:pulumi:Stack" in lines
    assert "      + kms  poolside:aws:KmsKey" in lines
    assert "          + kms-key  aws:kms/key:Key  [retain on delete]" in lines
    assert '  bucketName: "poolside-dev-123456789012"' in lines
    assert (
        "  role poolside-dev-eks-pod-role  (arn:aws:iam::123456789012:role/poolside-dev-eks-pod-role)"
        in lines
    )
    assert "    policy poolside-dev-pod-s3-access:" in lines
    assert "      s3:ListBucket -> arn:aws:s3:::poolside-dev-123456789012" in lines
    assert "      s3:GetObject, s3:PutObject -> arn:aws:s3:::poolside-dev-123456789012/*" in lines
    assert '  kubeconfig: "[secret]"' in lines
    assert '  vpcId: "vpc-0a1b2c3d4e5f60718"' in lines
    # The node groups and the add-ons around them, under their own component.
    assert "      + cluster  poolside:aws:NodeGroups" in lines
    assert "          + cluster-vpc-cni  aws:eks/addon:Addon" in lines
    assert "          + cluster-gpu-launch-template  aws:ec2/launchTemplate:LaunchTemplate" in lines
    assert "          + cluster-gpu  eks:index:ManagedNodeGroup" in lines
    assert "          + cluster-coredns  aws:eks/addon:Addon" in lines
    # The VPC CNI's policy is its own IRSA role's, not the nodes'.
    assert managed_policies(lines, "poolside-dev-eks-vpc-cni-role") == [
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
    ]
    # In a stable order (by ARN), whatever order the attachments were registered in.
    assert managed_policies(lines, "poolside-dev-eks-node-role") == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ]
    # Every policy is attached to a role: there is no permissions boundary any more.
    assert "IAM policies attached to no role (permissions boundaries):" not in lines
    assert not any("permissions-boundary" in line for line in lines)


def managed_policies(lines: list[str], role: str) -> list[str]:
    """The AWS-managed policies the text plan lists under `role`, in order."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  role {role}  ("))
    section = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        section.append(line)
    prefix = "    managed policy "
    return [line.removeprefix(prefix) for line in section if line.startswith(prefix)]


def test_json_outputs_carry_the_vpc_and_the_controllers_helm_values(
    dev_json: dict[str, Any],
) -> None:
    outputs = dev_json["outputs"]
    role = "arn:aws:iam::123456789012:role/poolside-dev-aws-load-balancer-controller"
    assert outputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"  # the dev stack's poolside:cluster.vpcId
    assert (
        outputs["vpcCniRoleArn"] == "arn:aws:iam::123456789012:role/poolside-dev-eks-vpc-cni-role"
    )
    assert outputs["loadBalancerControllerHelmValues"] == {
        "clusterName": "poolside-dev",
        "region": "us-east-1",
        "vpcId": "vpc-0a1b2c3d4e5f60718",
        "serviceAccount": {
            "create": True,
            "name": "aws-load-balancer-controller",
            "annotations": {"eks.amazonaws.com/role-arn": role},
        },
    }
    assert "permissionsBoundaryArn" not in outputs


def test_invalid_stack_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.broken.yaml"
    stack.write_text(
        "config:\n"
        "  aws:region: us-east-1\n"
        "  poolside:deploymentName: Acme_Prod\n"
        "  poolside:kms:\n"
        "    deletionWindowInDays: 3\n"
        "  poolside:ecrr: {}\n"
    )
    result = preview("--config-file", str(stack), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme_Prod")',
        "poolside:kms.deletionWindowInDays: must be 7-30 days (got 3)",
        "poolside:cluster: required",
        "poolside:ecrr: unknown key; did you mean poolside:ecr?",
    ]
    assert "Traceback" not in result.stderr


def test_missing_region_and_bad_account_are_reported(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.noregion.yaml"
    stack.write_text(
        "config:\n  poolside:deploymentName: acme\n"
        "  poolside:cluster: {existingClusterName: acme, privateSubnetIds: [subnet-0123456789abcdef0]}\n"
    )
    result = preview("--config-file", str(stack), "--account-id", "12")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [
        'aws:region: required, an AWS region such as us-east-1 (got "")',
        '--account-id: must be 12 digits (got "12")',
    ]


def test_secrets_and_missing_files_are_reported_without_traceback(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.secret.yaml"
    stack.write_text("config:\n  poolside:deploymentName:\n    secure: AAABAD\n")
    result = preview("--config-file", str(stack))
    assert result.exit_code == 2
    assert "poolside:deploymentName: is a secret" in result.stderr
    missing = preview("--stack", "nosuchstack")
    assert missing.exit_code == 2
    assert missing.stderr.strip().endswith("Pulumi.nosuchstack.yaml: no such stack file")


def test_rules_that_need_the_partition_exit_2_too(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.china.yaml"
    stack.write_text(
        "config:\n"
        "  aws:region: cn-north-1\n"
        "  poolside:deploymentName: acme\n"
        "  poolside:cluster:\n"
        "    vpcId: vpc-0123456789abcdef0\n"
        "    privateSubnetIds: [subnet-0000000000000000a, subnet-0000000000000000b]\n"
        "    nodeGroups: [{name: system}]\n"
    )
    result = preview("--config-file", str(stack))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.lines == [
        "poolside:bedrock.enabled: Amazon Bedrock is not offered in the aws-cn partition: set it to false"
    ]
    stack.write_text(stack.read_text() + "  poolside:bedrock: {enabled: false}\n")
    china = preview("--config-file", str(stack), "--format", "json")
    assert china.exit_code == 0, china.stderr
    assert json.loads(china.stdout)["outputs"]["partition"] == "aws-cn"
    assert "arn:aws:" not in china.stdout
