"""What `pulumi up` hands to the next step: the commands and Helm values among the stack outputs.

The example stacks as the offline preview prints them (all three partitions), an existing
cluster, and a stack whose service accounts, namespaces and region are all non-default.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.deployment import EXISTING_CLUSTER, EXISTING_PROVIDER, existing_cluster
from tests.support.harness import ACCOUNT_ID, PROJECT_ROOT, run_stack
from tests.support.preview import Preview, run_preview

ROLE_ARN = "eks.amazonaws.com/role-arn"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@dataclass(frozen=True)
class Example:
    """What an example stack file (`Pulumi.<stack>.yaml`) sets, as its outputs must show it."""

    stack: str
    partition: str
    region: str
    deployment: str
    vpc_id: str
    repositories: tuple[str, ...]
    bedrock: bool

    @property
    def prefix(self) -> str:
        return f"poolside-{self.deployment}"

    def role(self, suffix: str) -> str:
        return f"arn:{self.partition}:iam::{ACCOUNT_ID}:role/{self.prefix}-{suffix}"

    @property
    def registry(self) -> str:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        return f"{ACCOUNT_ID}.dkr.ecr.{self.region}.{suffix}"


EXAMPLES = [
    Example(
        "dev", "aws", "us-east-1", "dev", "vpc-0a1b2c3d4e5f60718", ("api", "web", "inference"), True
    ),
    Example(
        "govcloud",
        "aws-us-gov",
        "us-gov-west-1",
        "gov",
        "vpc-0f1e2d3c4b5a69788",
        ("api", "web", "inference"),
        True,
    ),
    Example("china", "aws-cn", "cn-north-1", "china", "vpc-0c1d2e3f4a5b69788", (), False),
]


def planned(preview: Preview, type_: str) -> list[dict[str, Any]]:
    return [s for s in preview.states() if s["type"] == type_]


def account(namespace: str, name: str, role_arn: str, *, create: bool) -> dict[str, Any]:
    """A service account as the Helm values carry it."""
    return {
        "namespace": namespace,
        "name": name,
        "create": create,
        "annotations": {ROLE_ARN: role_arn},
    }


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda e: e.stack)
def example(request: pytest.FixtureRequest) -> tuple[Example, Preview]:
    stack: Example = request.param
    preview = run_preview("--stack", stack.stack, "--format", "json")
    assert preview.exit_code == 0, preview.stderr
    return stack, preview


def test_the_example_stacks_print_the_commands_and_the_cluster_security_group(
    example: tuple[Example, Preview],
) -> None:
    stack, preview = example
    outputs = json.loads(preview.stdout)["outputs"]
    assert outputs["kubeconfigCommand"] == (
        f"aws eks update-kubeconfig --name {stack.prefix} --region {stack.region}"
    )
    assert outputs["vpcId"] == stack.vpc_id
    # EKS's cluster security group (not one pulumi-eks adds): the one the bastion's API rule opens.
    [cluster] = planned(preview, "aws:eks/cluster:Cluster")
    [api_rule] = planned(preview, INGRESS_RULE)
    security_group = cluster["inputs"]["vpcConfig"]["clusterSecurityGroupId"]
    assert re.fullmatch(r"sg-[0-9a-f]{17}", security_group)
    assert outputs["clusterSecurityGroupId"] == security_group
    assert api_rule["inputs"]["securityGroupId"] == security_group
    assert outputs["bastionStartSessionCommand"] == (
        f"aws ssm start-session --target {outputs['bastionInstanceId']} --region {stack.region}"
    )


def test_the_example_stacks_print_the_controllers_helm_values(
    example: tuple[Example, Preview],
) -> None:
    stack, preview = example
    outputs = json.loads(preview.stdout)["outputs"]
    assert outputs["loadBalancerControllerHelmValues"] == {
        "clusterName": stack.prefix,
        "region": stack.region,
        "vpcId": stack.vpc_id,
        "serviceAccount": {
            "create": True,
            "name": "aws-load-balancer-controller",
            "annotations": {ROLE_ARN: stack.role("aws-load-balancer-controller")},
        },
    }


def test_the_example_stacks_print_the_poolside_helm_values(
    example: tuple[Example, Preview],
) -> None:
    stack, preview = example
    outputs = json.loads(preview.stdout)["outputs"]
    key_arn = outputs["kmsKeyArn"]
    assert re.fullmatch(
        rf"arn:{stack.partition}:kms:{stack.region}:{ACCOUNT_ID}:key/[0-9a-f-]{{36}}", key_arn
    )
    [key] = planned(preview, "aws:kms/key:Key")
    assert key["inputs"]["description"] == (
        f"Poolside deployment {stack.deployment}: data, images and secrets"
    )
    bedrock = (
        {"bedrock": {"customizationRoleArn": stack.role("bedrock-customization-role")}}
        if stack.bedrock
        else {}
    )
    assert outputs["poolsideHelmValues"] == {
        "region": stack.region,
        "parameterPath": f"/poolside/deployment/{stack.deployment}/",
        "bucketName": f"{stack.prefix}-{ACCOUNT_ID}",
        "kmsKeyArn": key_arn,
        "ecrRepositoryUrls": {
            name: f"{stack.registry}/poolside-{stack.deployment}/{name}"
            for name in stack.repositories
        },
        "podRole": {
            "roleArn": stack.role("eks-pod-role"),
            # the core API's, as Poolside's charts name it
            "serviceAccounts": [
                account("poolside", "core-api-sa", stack.role("eks-pod-role"), create=True)
            ],
        },
        "inference": {
            "roleArn": stack.role("eks-inference-role"),
            "modelsBucketName": f"{stack.prefix}-models-{ACCOUNT_ID}",
            "serviceAccount": account(
                "poolside-models", "inference", stack.role("eks-inference-role"), create=True
            ),
        },
        **bedrock,
    }
    # The same facts as the outputs of their own.
    values = outputs["poolsideHelmValues"]
    assert values["bucketName"] == outputs["bucketName"]
    assert values["ecrRepositoryUrls"] == outputs["ecrRepositoryUrls"]
    assert values["inference"]["modelsBucketName"] == outputs["modelsBucketName"]
    assert values["podRole"]["roleArn"] == outputs["podRoleArn"]


def test_the_operations_guide_shows_the_dev_stacks_poolside_helm_values() -> None:
    """The example in docs/operations.md is what the dev stack prints, key for key."""
    guide = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = guide.split("## The Poolside Helm values", 1)[1]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    preview = run_preview("--stack", "dev", "--format", "json")
    assert preview.exit_code == 0, preview.stderr
    assert json.loads(example) == json.loads(preview.stdout)["outputs"]["poolsideHelmValues"]


def text_outputs(text: str) -> list[str]:
    """The lines of the text plan's `Outputs:` section."""
    lines = text.splitlines()
    start = lines.index("Outputs:") + 1
    end = lines.index("", start)
    return lines[start:end]


@pytest.mark.parametrize("stack", [e.stack for e in EXAMPLES])
def test_the_text_plan_prints_the_outputs_as_the_json_plan_has_them(stack: str) -> None:
    """Nested values one key a line, indented (YAML block style with JSON scalars): a YAML
    parser reads back exactly the JSON plan's outputs."""
    text = run_preview("--stack", stack)
    json_plan = run_preview("--stack", stack, "--format", "json")
    assert text.exit_code == json_plan.exit_code == 0, text.stderr + json_plan.stderr
    lines = text_outputs(text.stdout)
    assert all(line.startswith("  ") and len(line) > 2 for line in lines)
    assert yaml.safe_load("\n".join(lines)) == json.loads(json_plan.stdout)["outputs"]
    values = lines.index("  poolsideHelmValues:")
    assert lines[values + 1].startswith("    ")
    # A key that holds a `:` is quoted; the annotation key is not.
    assert any(line.startswith('    "poolside:core-api-sa": ') for line in lines)
    assert any(line.startswith(f"        {ROLE_ARN}: ") for line in lines)


# -- an existing cluster -----------------------------------------------------------------------

EXISTING_VPC = "vpc-0fedcba9876543210"
EXISTING_SECURITY_GROUP = "sg-0aaaabbbbccccdddd"
INITECH = f"arn:aws:iam::{ACCOUNT_ID}:role/poolside-initech-"


def existing_run() -> Any:
    """An existing cluster with the controller and inference on, the service accounts created."""
    return run_stack(
        {
            "deploymentName": "initech",
            "cluster": {
                "existingClusterName": EXISTING_CLUSTER,
                "existingOidcProviderArn": EXISTING_PROVIDER,
                "createServiceAccounts": True,
            },
            "podRole": {"serviceAccounts": ["core-api-sa", "jobs:worker"]},
            "bedrock": {"enabled": False},
            "bastion": {"enabled": False},
        },
        cluster_overrides=existing_cluster(
            vpcConfig={"clusterSecurityGroupId": EXISTING_SECURITY_GROUP, "vpcId": EXISTING_VPC}
        ),
    )


def test_an_existing_cluster_prints_its_looked_up_vpc_and_security_group() -> None:
    outputs = existing_run().stack_outputs
    assert outputs["clusterName"] == EXISTING_CLUSTER
    assert outputs["vpcId"] == EXISTING_VPC
    assert outputs["clusterSecurityGroupId"] == EXISTING_SECURITY_GROUP
    assert outputs["kubeconfigCommand"] == (
        f"aws eks update-kubeconfig --name {EXISTING_CLUSTER} --region us-east-1"
    )
    assert outputs["loadBalancerControllerHelmValues"] == {
        "clusterName": EXISTING_CLUSTER,
        "region": "us-east-1",
        "vpcId": EXISTING_VPC,
        "serviceAccount": {
            "create": False,  # the stack created it
            "name": "aws-load-balancer-controller",
            "annotations": {ROLE_ARN: f"{INITECH}aws-load-balancer-controller"},
        },
    }


def test_an_existing_cluster_prints_the_poolside_helm_values() -> None:
    recording = existing_run()
    outputs = recording.stack_outputs
    pod_role = f"{INITECH}eks-pod-role"
    assert outputs["poolsideHelmValues"] == {
        "region": "us-east-1",
        "parameterPath": "/poolside/deployment/initech/",
        "bucketName": f"poolside-initech-{ACCOUNT_ID}",
        "kmsKeyArn": outputs["kmsKeyArn"],
        "ecrRepositoryUrls": {},
        "podRole": {
            "roleArn": pod_role,
            # the stack created them: the charts must not (Helm would refuse to adopt them)
            "serviceAccounts": [
                account("poolside", "core-api-sa", pod_role, create=False),
                account("jobs", "worker", pod_role, create=False),
            ],
        },
        "inference": {
            "roleArn": f"{INITECH}eks-inference-role",
            "modelsBucketName": f"poolside-initech-models-{ACCOUNT_ID}",
            "serviceAccount": account(
                "poolside-models", "inference", f"{INITECH}eks-inference-role", create=False
            ),
        },
    }
    [key] = recording.by_type("aws:kms/key:Key")
    assert outputs["kmsKeyArn"] == key.outputs["arn"]
    created = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["metadata"]
        for r in recording.by_type("kubernetes:core/v1:ServiceAccount")
    }
    # Each account the values name is the one the stack created, with the same annotation.
    for entry in outputs["poolsideHelmValues"]["podRole"]["serviceAccounts"]:
        assert created[(entry["namespace"], entry["name"])]["annotations"] == entry["annotations"]


# -- every name and the region set ---------------------------------------------------------------

CUSTOM_STACK = """\
config:
  aws:region: eu-west-2
  poolside:deploymentName: globex
  poolside:deploymentPrefix: ps-globex
  poolside:ecr:
    repositories: [api, team/web]
  poolside:cluster:
    vpcId: vpc-0123456789abcdef0
    privateSubnetIds: [subnet-0000000000000000a, subnet-0000000000000000b]
    nodeGroups: [{name: system}]
  poolside:podRole:
    namespace: ml
    serviceAccounts: [api, "batch:worker", jobs-*, "ops:runner-*"]
  poolside:inference:
    namespace: serving
    serviceAccount: vllm
    existingBucketName: globex-checkpoints
  poolside:loadBalancerController:
    namespace: ingress
    serviceAccount: lbc
  poolside:bedrock:
    enabled: false
"""


def test_custom_service_accounts_namespaces_and_region_reach_the_helm_values(
    tmp_path: Path,
) -> None:
    stack = tmp_path / "Pulumi.globex.yaml"
    stack.write_text(CUSTOM_STACK)
    preview = run_preview("--config-file", str(stack), "--format", "json")
    assert preview.exit_code == 0, preview.stderr
    outputs = json.loads(preview.stdout)["outputs"]
    roles = f"arn:aws:iam::{ACCOUNT_ID}:role/ps-globex-"
    pod_role = f"{roles}eks-pod-role"
    registry = f"{ACCOUNT_ID}.dkr.ecr.eu-west-2.amazonaws.com"
    assert outputs["kubeconfigCommand"] == (
        "aws eks update-kubeconfig --name ps-globex --region eu-west-2"
    )
    assert outputs["poolsideHelmValues"] == {
        "region": "eu-west-2",
        "parameterPath": "/poolside/deployment/globex/",
        "bucketName": f"ps-globex-{ACCOUNT_ID}",
        "kmsKeyArn": outputs["kmsKeyArn"],
        "ecrRepositoryUrls": {
            "api": f"{registry}/poolside-globex/api",
            "team/web": f"{registry}/poolside-globex/team/web",
        },
        "podRole": {
            "roleArn": pod_role,
            # a name alone is in podRole.namespace; `namespace:name` keeps its own
            "serviceAccounts": [
                account("ml", "api", pod_role, create=True),
                account("batch", "worker", pod_role, create=True),
            ],
            # a pattern names no account to create: every account it matches needs the role
            "serviceAccountPatterns": [
                {"namespace": "ml", "namePattern": "jobs-*", "annotations": {ROLE_ARN: pod_role}},
                {
                    "namespace": "ops",
                    "namePattern": "runner-*",
                    "annotations": {ROLE_ARN: pod_role},
                },
            ],
        },
        "inference": {
            "roleArn": f"{roles}eks-inference-role",
            "modelsBucketName": "globex-checkpoints",
            "serviceAccount": account("serving", "vllm", f"{roles}eks-inference-role", create=True),
        },
    }
    assert outputs["kmsKeyArn"].startswith(f"arn:aws:kms:eu-west-2:{ACCOUNT_ID}:key/")
    assert outputs["loadBalancerControllerHelmValues"] == {
        "clusterName": "ps-globex",
        "region": "eu-west-2",
        "vpcId": "vpc-0123456789abcdef0",
        "serviceAccount": {
            "create": True,
            "name": "lbc",
            "annotations": {ROLE_ARN: f"{roles}aws-load-balancer-controller"},
        },
    }
    # The trust names exactly the accounts and patterns the values carry.
    [pod] = [
        s["inputs"]
        for s in preview.states()
        if s["type"] == "aws:iam/role:Role" and s["inputs"]["name"] == "ps-globex-eks-pod-role"
    ]
    [statement] = json.loads(pod["assumeRolePolicy"])["Statement"]
    [subjects] = [v for k, v in statement["Condition"]["StringLike"].items() if k.endswith(":sub")]
    assert subjects == [
        "system:serviceaccount:ml:api",
        "system:serviceaccount:batch:worker",
        "system:serviceaccount:ml:jobs-*",
        "system:serviceaccount:ops:runner-*",
    ]
