"""Every config field reaches the resource input it decides, with a non-default value.

`deployment.py` passes the parsed config to the components. Elsewhere most values reach the
program's tests only as their defaults, so a field the wiring dropped (or passed to the wrong
argument) would keep passing. Here two stacks set every field the reference lists to a value
other than its default: `CREATED` (a cluster this stack creates, everything on) and `EXISTING`
(an existing cluster and provider, the optional parts off, the customer's data bucket with its own
key); `LEAN` (default add-ons off, the customer's key for the buckets the stack creates) and
`CUSTOMER` (the customer's key and bucket, everything that uses them on). `WIRING` has one row per field: the
stack that sets it and what it must reach, written out. A field without a row fails
`test_every_config_field_has_a_row`; a row whose value is the default fails
`test_every_row_sets_a_value_other_than_the_default`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from offline_preview.engine import RecordedResource, Recording
from stack_config import NAMESPACE, StackConfig, StackConfigError, reference_rows
from stack_config.base import section_model
from tests.support.bastion import GET_PARAMETER
from tests.support.deployment import (
    EXISTING_CLUSTER,
    EXISTING_PROVIDER,
    existing_cluster,
    parameter_names,
)
from tests.support.harness import ACCOUNT_ID, SONNET_4, StackRun, record_stack
from tests.support.policies import policy, statements_by_sid

TITAN = "amazon.titan-text-express-v1"
LLAMA = "meta.llama3-1-8b-instruct-v1:0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
PUBLIC_SUBNETS = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
VPC = "vpc-0fedcba9876543210"
AMI = "ami-0123456789abcdef0"
CHECKPOINTS_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
# The customers' keys: the data bucket's own (EXISTING), the deployment's (LEAN), and a
# multi-Region key's replica (CUSTOMER).
INITECH_BUCKET_KEY = "arn:aws:kms:us-east-1:123456789012:key/33333333-2222-4333-8444-555555555555"
HOOLI_KEY = "arn:aws:kms:us-east-1:123456789012:key/44444444-2222-4333-8444-555555555555"
UMBRELLA_KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"

# A created cluster, every field set, nothing at its default.
CREATED: dict[str, Any] = {
    "deploymentName": "globex",
    "deploymentPrefix": "ps-globex",
    "tags": {"owner": "platform", "cost-center": "4711"},
    "kms": {"deletionWindowInDays": 9, "alias": "alias/globex-data", "retainOnDelete": False},
    "bucket": {
        "name": "globex-poolside-data",
        "noncurrentVersionExpirationDays": 45,
        "retainOnDelete": False,
    },
    "ecr": {
        "repositories": ["api", "team/web"],
        "imageTagMutability": "MUTABLE",
        "scanOnPush": False,
        "untaggedImageExpirationDays": 5,
        "retainOnDelete": False,
    },
    "cluster": {
        "kubernetesVersion": "1.33",
        "vpcId": VPC,
        "privateSubnetIds": SUBNETS,
        "publicSubnetIds": PUBLIC_SUBNETS,
        "endpointPublicAccess": True,
        "publicAccessCidrs": ["203.0.113.0/24"],
        "authenticationMode": "API_AND_CONFIG_MAP",
        "enabledLogTypes": ["api", "scheduler"],
        "nodeGroups": [
            {
                "name": "gpu",
                "instanceTypes": ["g6e.12xlarge"],
                "minSize": 0,
                "desiredSize": 4,
                "maxSize": 6,
                "diskSizeGib": 500,
                "gpu": True,
                "labels": {"poolside.ai/workload": "inference"},
                "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
            }
        ],
        "createServiceAccounts": True,
    },
    "podRole": {"namespace": "ml", "serviceAccounts": ["api", "jobs-*"]},
    "loadBalancerController": {"namespace": "ingress", "serviceAccount": "lbc"},
    "bedrock": {
        "models": [TITAN],
        "inferenceProfiles": [{"id": f"us.{SONNET_4}"}],
        "customizationBaseModels": [LLAMA],
    },
    "inference": {
        "namespace": "serving",
        "serviceAccount": "vllm",
        "existingBucketName": "globex-checkpoints",
        "existingBucketKmsKeyArn": CHECKPOINTS_KEY,
    },
    "addons": {
        "vpcCni": {"version": "v1.19.0-eksbuild.1"},
        "kubeProxy": {"version": "v1.33.0-eksbuild.2"},
        "coredns": {"version": "v1.11.4-eksbuild.2"},
        "ebsCsiDriver": {"version": "v1.44.0-eksbuild.1"},
        "metricsServer": {"enabled": True, "version": "v0.7.2-eksbuild.3"},
        "snapshotController": {"enabled": True, "version": "v8.2.0-eksbuild.1"},
    },
    "bastion": {
        "instanceType": "t3.large",
        "subnetId": SUBNETS[1],
        "amiId": AMI,
        "installTools": False,
        "existingLockTableName": "globex-locks",
        "rootVolumeSizeGib": 64,
    },
}

# An existing cluster and its provider; what `CREATED` switches on (the default), off.
EXISTING: dict[str, Any] = {
    "deploymentName": "initech",
    "cluster": {
        "existingClusterName": EXISTING_CLUSTER,
        "existingOidcProviderArn": EXISTING_PROVIDER,
        "createServiceAccounts": True,
    },
    "loadBalancerController": {"enabled": False},
    "bedrock": {"enabled": False},
    "bastion": {"enabled": False},
    "inference": {"enabled": False},
    "addons": {"manageOnExistingCluster": True},
    "bucket": {
        "existingBucketName": "initech-data",
        "existingBucketKmsKeyArn": INITECH_BUCKET_KEY,
    },
}

# A created cluster whose default add-ons are off and whose models bucket the stack may delete.
LEAN: dict[str, Any] = {
    "deploymentName": "hooli",
    "kms": {"existingKeyArn": HOOLI_KEY},
    "cluster": {"vpcId": VPC, "privateSubnetIds": SUBNETS, "nodeGroups": [{"name": "system"}]},
    "inference": {"retainOnDelete": False},
    "addons": {
        "vpcCni": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "coredns": {"enabled": False},
        "ebsCsiDriver": {"enabled": False},
    },
}

# A security team's stack: its key and its bucket (encrypted with that key), and everything
# that uses them on (repositories, the bastion, Bedrock, the models bucket, the EBS CSI driver).
CUSTOMER: dict[str, Any] = {
    "deploymentName": "umbrella",
    "kms": {"existingKeyArn": UMBRELLA_KEY},
    "bucket": {"existingBucketName": "umbrella-data"},
    "ecr": {"repositories": ["api"]},
    "cluster": {"vpcId": VPC, "privateSubnetIds": SUBNETS, "nodeGroups": [{"name": "system"}]},
}

STACKS = {"created": CREATED, "existing": EXISTING, "lean": LEAN, "customer": CUSTOMER}


def stack(name: str) -> StackRun:
    """The program's run of one of `STACKS` (recorded once per session)."""
    if name == "existing":
        return record_stack(EXISTING, cluster_overrides=existing_cluster())
    return record_stack(STACKS[name])


# -- reading the recording ---------------------------------------------------------------------

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
SSE_CONFIGURATION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


def one(recording: Recording, type_: str) -> RecordedResource:
    [resource] = recording.by_type(type_)
    return resource


def named(recording: Recording, type_: str, name: str) -> RecordedResource:
    """The one resource of `type_` whose `name` input (its physical name) is `name`."""
    [resource] = [r for r in recording.by_type(type_) if r.inputs.get("name") == name]
    return resource


def document(recording: Recording, name: str) -> dict[str, dict[str, Any]]:
    """The statements by Sid of the customer-managed policy `name`."""
    return statements_by_sid(policy(named(recording, POLICY, name)))


def trust(recording: Recording, role_name: str) -> dict[str, Any]:
    [statement] = policy(named(recording, ROLE, role_name), "assumeRolePolicy")["Statement"]
    assert isinstance(statement, dict)
    return statement


def parameters(recording: Recording) -> dict[str, str]:
    return {
        p.inputs["name"]: p.inputs["insecureValue"]
        for p in recording.by_type("aws:ssm/parameter:Parameter")
    }


def children(recording: Recording, component_type: str) -> list[RecordedResource]:
    [component] = recording.by_type(component_type)
    return [r for r in recording.resources if r.parent == component.urn]


def cluster_inputs(recording: Recording) -> dict[str, Any]:
    return one(recording, "eks:index:Cluster").inputs


def node_group(recording: Recording) -> dict[str, Any]:
    return recording.one("eks:index:ManagedNodeGroup", "cluster-gpu").inputs


def instance(recording: Recording) -> RecordedResource:
    return one(recording, "aws:ec2/instance:Instance")


def service_accounts(recording: Recording) -> set[tuple[str, str]]:
    return {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
        for r in recording.by_type("kubernetes:core/v1:ServiceAccount")
    }


def namespaces(recording: Recording) -> list[str]:
    return [r.inputs["metadata"]["name"] for r in recording.by_type("kubernetes:core/v1:Namespace")]


def helm(recording: Recording) -> dict[str, Any]:
    """The `poolsideHelmValues` stack output."""
    values: dict[str, Any] = recording.stack_outputs["poolsideHelmValues"]
    return values


def accounts_in_helm_values(recording: Recording) -> list[tuple[str, str, bool]]:
    """(namespace, name, create) of each pod-role service account the Helm values name."""
    return [
        (a["namespace"], a["name"], a["create"])
        for a in helm(recording)["podRole"]["serviceAccounts"]
    ]


# -- what each field reaches --------------------------------------------------------------------

GLOBEX_TAGS = {"owner": "platform", "cost-center": "4711", "poolside:deployment": "globex"}
ROLES = "arn:aws:iam::123456789012:role/"


def deployment_name(run: StackRun) -> None:
    r = run.recording
    assert r.stack_outputs["parameterPath"] == "/poolside/deployment/globex/"
    assert helm(r)["parameterPath"] == "/poolside/deployment/globex/"
    assert set(parameters(r)) == parameter_names("globex")
    assert one(r, "aws:kms/key:Key").inputs["tags"]["poolside:deployment"] == "globex"
    assert one(r, "aws:kms/key:Key").inputs["description"] == (
        "Poolside deployment globex: data, images and secrets"
    )
    assert {repo.inputs["name"] for repo in r.by_type("aws:ecr/repository:Repository")} == {
        "poolside-globex/api",
        "poolside-globex/team/web",
    }
    cognito = document(r, "ps-globex-bastion-cognito-management")
    assert cognito["ManageDeploymentUserPools"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/poolside:deployment": "globex"}
    }
    ssm = document(r, "ps-globex-bastion-ssm-parameters")
    path = f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter/poolside/deployment/globex"
    assert ssm["DeploymentParameters"]["Resource"] == [path, f"{path}/*"]


def deployment_prefix(run: StackRun) -> None:
    r = run.recording
    assert {role.inputs["name"] for role in r.by_type(ROLE)} == {
        "ps-globex-eks-cluster-role",
        "ps-globex-eks-node-role",
        "ps-globex-eks-pod-role",
        "ps-globex-eks-vpc-cni-role",
        "ps-globex-eks-ebs-csi-role",
        "ps-globex-eks-inference-role",
        "ps-globex-bedrock-customization-role",
        "ps-globex-aws-load-balancer-controller",
        "ps-globex-bastion-role",
    }
    assert all(p.inputs["name"].startswith("ps-globex-") for p in r.by_type(POLICY))
    assert named(r, POLICY, "ps-globex-pod-s3-access")
    assert named(r, POLICY, "ps-globex-bastion-default")
    assert cluster_inputs(r)["name"] == "ps-globex"
    assert r.stack_outputs["clusterName"] == "ps-globex"
    assert node_group(r)["nodeGroupName"] == "ps-globex-gpu"
    security_group = one(r, "aws:ec2/securityGroup:SecurityGroup")
    assert security_group.inputs["namePrefix"] == "ps-globex-bastion-"
    profile = one(r, "aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["name"] == "ps-globex-bastion-instance-profile"
    assert instance(r).inputs["tags"]["Name"] == "ps-globex-bastion"


def tags(run: StackRun) -> None:
    tagged = [r for r in run.recording.resources if "tags" in r.inputs]
    assert len({r.type for r in tagged}) >= 15
    for resource in tagged:
        own = {k: v for k, v in resource.inputs["tags"].items() if k != "Name"}
        assert own == GLOBEX_TAGS, resource.name


def kms_deletion_window(run: StackRun) -> None:
    assert one(run.recording, "aws:kms/key:Key").inputs["deletionWindowInDays"] == 9


def kms_alias(run: StackRun) -> None:
    assert one(run.recording, "aws:kms/alias:Alias").inputs["name"] == "alias/globex-data"
    assert run.recording.stack_outputs["kmsKeyAlias"] == "alias/globex-data"


def kms_retain(run: StackRun) -> None:
    key_and_alias = children(run.recording, "poolside:aws:KmsKey")
    assert {r.type for r in key_and_alias} == {"aws:kms/key:Key", "aws:kms/alias:Alias"}
    assert not any(r.retain_on_delete or r.protect for r in key_and_alias)


def bucket_name(run: StackRun) -> None:
    r = run.recording
    assert one(r, "aws:s3/bucket:Bucket").inputs["bucket"] == "globex-poolside-data"
    assert r.stack_outputs["bucketName"] == "globex-poolside-data"
    assert helm(r)["bucketName"] == "globex-poolside-data"
    assert parameters(r)["/poolside/deployment/globex/bucket-name"] == "globex-poolside-data"
    s3 = document(r, "ps-globex-pod-s3-access")
    assert s3["PoolsideBucketList"]["Resource"] == ["arn:aws:s3:::globex-poolside-data"]


def bucket_noncurrent_days(run: StackRun) -> None:
    lifecycle = one(
        run.recording, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    [rule] = lifecycle.inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 45}


def bucket_retain(run: StackRun) -> None:
    bucket = children(run.recording, "poolside:aws:Bucket")
    assert len(bucket) == 7
    assert not any(r.retain_on_delete or r.protect for r in bucket)


def ecr_repositories(run: StackRun) -> None:
    r = run.recording
    assert sorted(repo.name for repo in r.by_type("aws:ecr/repository:Repository")) == [
        "ecr-api",
        "ecr-team-web",
    ]
    assert r.stack_outputs["ecrRepositoryNames"] == {
        "api": "poolside-globex/api",
        "team/web": "poolside-globex/team/web",
    }
    registry = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"
    assert helm(r)["ecrRepositoryUrls"] == {
        "api": f"{registry}/poolside-globex/api",
        "team/web": f"{registry}/poolside-globex/team/web",
    }


def ecr_mutability(run: StackRun) -> None:
    repositories = run.recording.by_type("aws:ecr/repository:Repository")
    assert [repo.inputs["imageTagMutability"] for repo in repositories] == ["MUTABLE"] * 2


def ecr_scan_on_push(run: StackRun) -> None:
    repositories = run.recording.by_type("aws:ecr/repository:Repository")
    assert [repo.inputs["imageScanningConfiguration"] for repo in repositories] == [
        {"scanOnPush": False}
    ] * 2


UNTAGGED_AFTER_5_DAYS = (
    '{"rules":[{"rulePriority":1,"description":"Expire untagged images after 5 days",'
    '"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",'
    '"countNumber":5},"action":{"type":"expire"}}]}'
)


def ecr_untagged_days(run: StackRun) -> None:
    lifecycles = run.recording.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert [p.inputs["policy"] for p in lifecycles] == [UNTAGGED_AFTER_5_DAYS] * 2


def ecr_retain(run: StackRun) -> None:
    ecr = children(run.recording, "poolside:aws:EcrRepositories")
    assert len(ecr) == 4  # two repositories, their lifecycle policies
    assert not any(r.retain_on_delete or r.protect for r in ecr)


def existing_cluster_name(run: StackRun) -> None:
    r = run.recording
    assert r.by_type("eks:index:Cluster") == []
    assert r.by_type("poolside:aws:NodeGroups") == []
    assert r.stack_outputs["clusterName"] == EXISTING_CLUSTER
    assert r.stack_outputs["kubeconfigCommand"] == (
        f"aws eks update-kubeconfig --name {EXISTING_CLUSTER} --region us-east-1"
    )
    assert parameters(r)["/poolside/deployment/initech/cluster-name"] == EXISTING_CLUSTER
    assert ("aws:eks/getCluster:getCluster", {"name": EXISTING_CLUSTER}) in run.calls


def existing_provider(run: StackRun) -> None:
    r = run.recording
    assert r.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert r.stack_outputs["oidcProviderArn"] == EXISTING_PROVIDER
    assert trust(r, "poolside-initech-eks-pod-role")["Principal"] == {
        "Federated": EXISTING_PROVIDER
    }
    oidc = parameters(r)["/poolside/deployment/initech/oidc-provider-arn"]
    assert oidc == EXISTING_PROVIDER


def kubernetes_version(run: StackRun) -> None:
    assert cluster_inputs(run.recording)["version"] == "1.33"
    assert node_group(run.recording)["version"] == "1.33"


def vpc_id(run: StackRun) -> None:
    r = run.recording
    assert cluster_inputs(r)["vpcId"] == VPC
    assert one(r, "aws:ec2/securityGroup:SecurityGroup").inputs["vpcId"] == VPC
    assert parameters(r)["/poolside/deployment/globex/vpc-id"] == VPC
    assert r.stack_outputs["loadBalancerControllerHelmValues"]["vpcId"] == VPC


def private_subnets(run: StackRun) -> None:
    assert cluster_inputs(run.recording)["privateSubnetIds"] == SUBNETS
    assert node_group(run.recording)["subnetIds"] == SUBNETS


def public_subnets(run: StackRun) -> None:
    assert cluster_inputs(run.recording)["publicSubnetIds"] == PUBLIC_SUBNETS


def endpoint_public_access(run: StackRun) -> None:
    inputs = cluster_inputs(run.recording)
    assert inputs["endpointPublicAccess"] is True
    assert inputs["endpointPrivateAccess"] is True


def public_access_cidrs(run: StackRun) -> None:
    assert cluster_inputs(run.recording)["publicAccessCidrs"] == ["203.0.113.0/24"]


def authentication_mode(run: StackRun) -> None:
    assert cluster_inputs(run.recording)["authenticationMode"] == "API_AND_CONFIG_MAP"


def log_types(run: StackRun) -> None:
    assert cluster_inputs(run.recording)["enabledClusterLogTypes"] == ["api", "scheduler"]


def node_group_name(run: StackRun) -> None:
    r = run.recording
    assert [g.name for g in r.by_type("eks:index:ManagedNodeGroup")] == ["cluster-gpu"]
    template = one(r, "aws:ec2/launchTemplate:LaunchTemplate")
    assert template.name == "cluster-gpu-launch-template"
    assert template.inputs["description"].startswith("Poolside node group gpu:")


def node_group_instance_types(run: StackRun) -> None:
    assert node_group(run.recording)["instanceTypes"] == ["g6e.12xlarge"]


def scaling(part: str, size: int) -> Callable[[StackRun], None]:
    def check(run: StackRun) -> None:
        assert node_group(run.recording)["scalingConfig"][part] == size

    return check


def node_group_disk(run: StackRun) -> None:
    template = one(run.recording, "aws:ec2/launchTemplate:LaunchTemplate")
    [device] = template.inputs["blockDeviceMappings"]
    assert device["ebs"]["volumeSize"] == 500
    assert "diskSize" not in node_group(run.recording)


def node_group_gpu(run: StackRun) -> None:
    assert node_group(run.recording)["amiType"] == "AL2023_x86_64_NVIDIA"


def node_group_labels(run: StackRun) -> None:
    assert node_group(run.recording)["labels"] == {"poolside.ai/workload": "inference"}


def taint(part: str, value: str) -> Callable[[StackRun], None]:
    def check(run: StackRun) -> None:
        [only] = node_group(run.recording)["taints"]
        assert only[part] == value

    return check


def created_service_accounts(run: StackRun) -> None:
    r = run.recording
    assert service_accounts(r) == {("ml", "api"), ("ingress", "lbc"), ("serving", "vllm")}
    controller = r.stack_outputs["loadBalancerControllerHelmValues"]
    assert controller["serviceAccount"]["create"] is False  # the stack creates it, not the chart
    assert [a["create"] for a in helm(r)["podRole"]["serviceAccounts"]] == [False]
    assert helm(r)["inference"]["serviceAccount"]["create"] is False


def existing_service_accounts(run: StackRun) -> None:
    # the pod role's default account (the core API's), in its default namespace; no controller
    # and no inference role (switched off)
    assert service_accounts(run.recording) == {("poolside", "core-api-sa")}
    assert namespaces(run.recording) == ["poolside"]
    assert accounts_in_helm_values(run.recording) == [("poolside", "core-api-sa", False)]


def pod_subjects(recording: Recording) -> Any:
    """The `sub` values the pod role's trust admits (one key: exact names and patterns alike)."""
    condition = trust(recording, "ps-globex-eks-pod-role")["Condition"]
    issuer = one(recording, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs["url"]
    issuer = issuer.removeprefix("https://")
    assert condition["StringEquals"] == {f"{issuer}:aud": "sts.amazonaws.com"}
    return condition["StringLike"][f"{issuer}:sub"]


def pod_namespace(run: StackRun) -> None:
    r = run.recording
    assert all(s.startswith("system:serviceaccount:ml:") for s in pod_subjects(r))
    assert ("ml", "api") in service_accounts(r)
    # not one of Kubernetes' own: created with its accounts (as the others' are)
    assert sorted(namespaces(r)) == ["ingress", "ml", "serving"]


def pod_service_accounts(run: StackRun) -> None:
    r = run.recording
    # A pattern makes the whole list a `StringLike` (an exact name matches itself there).
    assert pod_subjects(r) == ["system:serviceaccount:ml:api", "system:serviceaccount:ml:jobs-*"]
    # A pattern names no single account to create.
    assert {name for namespace, name in service_accounts(r) if namespace == "ml"} == {"api"}
    assert accounts_in_helm_values(r) == [("ml", "api", False)]
    [pattern] = helm(r)["podRole"]["serviceAccountPatterns"]
    assert (pattern["namespace"], pattern["namePattern"]) == ("ml", "jobs-*")


def controller_enabled(run: StackRun) -> None:
    r = run.recording
    # the pod role, and the roles of the add-ons it manages on the existing cluster; no controller
    assert sorted(role.inputs["name"] for role in r.by_type(ROLE)) == [
        "poolside-initech-eks-ebs-csi-role",
        "poolside-initech-eks-pod-role",
        "poolside-initech-eks-vpc-cni-role",
    ]
    assert "loadBalancerControllerRoleArn" not in r.stack_outputs
    assert "loadBalancerControllerHelmValues" not in r.stack_outputs
    assert set(parameters(r)) == parameter_names(
        "initech", bedrock=False, load_balancer_controller=False, inference=False
    )


def controller_subject(run: StackRun) -> None:
    r = run.recording
    condition = trust(r, "ps-globex-aws-load-balancer-controller")["Condition"]
    [(key, subject)] = [(k, v) for k, v in condition["StringEquals"].items() if k.endswith(":sub")]
    assert subject == "system:serviceaccount:ingress:lbc", key
    assert ("ingress", "lbc") in service_accounts(r)


def controller_service_account(run: StackRun) -> None:
    controller_subject(run)
    helm = run.recording.stack_outputs["loadBalancerControllerHelmValues"]
    assert helm["serviceAccount"]["name"] == "lbc"
    assert helm["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": f"{ROLES}ps-globex-aws-load-balancer-controller"
    }


def bedrock_enabled(run: StackRun) -> None:
    r = run.recording
    assert not [p for p in r.by_type(POLICY) if "bedrock" in p.inputs["name"]]
    assert "bedrockCustomizationRoleArn" not in r.stack_outputs
    assert "bedrock" not in helm(r)
    assert "bedrock" not in json.dumps([p.inputs["policy"] for p in r.by_type(POLICY)])


def bedrock_models(run: StackRun) -> None:
    invocation = document(run.recording, "ps-globex-pod-bedrock-model-invocation")
    assert invocation["InvokeFoundationModels"]["Resource"] == [
        f"arn:aws:bedrock:us-east-1::foundation-model/{TITAN}"
    ]


def bedrock_profiles(run: StackRun) -> None:
    invocation = document(run.recording, "ps-globex-pod-bedrock-model-invocation")
    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/us.{SONNET_4}"
    assert invocation["InvokeInferenceProfiles"]["Resource"] == [profile]
    assert invocation["InvokeModelsThroughProfile1"]["Condition"] == {
        "ArnLike": {"bedrock:InferenceProfileArn": profile}
    }


def bedrock_profile_regions(_: StackRun) -> None:
    """A removed key: refused, naming it, before anything is registered."""
    profile = {"id": f"us.{SONNET_4}", "regions": ["us-east-1"]}
    with pytest.raises(StackConfigError) as caught:
        record_stack({**CREATED, "bedrock": {"inferenceProfiles": [profile]}})
    [problem] = caught.value.problems
    assert problem.startswith("poolside:bedrock.inferenceProfiles[0].regions: is no longer used")


def bedrock_base_models(run: StackRun) -> None:
    job = document(run.recording, "ps-globex-pod-bedrock-customization-job")
    assert job["CreateCustomizationJobs"]["Resource"] == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:custom-model/*",
        f"arn:aws:bedrock:us-east-1::foundation-model/{LLAMA}",
    ]


def bastion_enabled(run: StackRun) -> None:
    r = run.recording
    assert r.by_type("poolside:aws:Bastion") == []
    assert r.by_type("aws:ec2/instance:Instance") == []
    assert r.by_type("aws:eks/accessEntry:AccessEntry") == []
    assert not [k for k in r.stack_outputs if k.startswith("bastion") or k == "lockTableName"]
    # no AMI to look up
    assert GET_PARAMETER not in [token for token, _ in run.calls]


def bastion_instance_type(run: StackRun) -> None:
    assert instance(run.recording).inputs["instanceType"] == "t3.large"


def bastion_subnet(run: StackRun) -> None:
    assert instance(run.recording).inputs["subnetId"] == SUBNETS[1]


def bastion_ami(run: StackRun) -> None:
    bastion = instance(run.recording)
    assert bastion.inputs["ami"] == AMI
    # A given AMI is the one to keep: no lookup, and a change of `amiId` replaces the instance.
    assert bastion.ignore_changes == []
    assert GET_PARAMETER not in [token for token, _ in run.calls]


def bastion_install_tools(run: StackRun) -> None:
    assert "userData" not in instance(run.recording).inputs


def bastion_lock_table(run: StackRun) -> None:
    r = run.recording
    assert r.by_type("aws:dynamodb/table:Table") == []
    state = document(r, "ps-globex-bastion-terraform-state")
    assert state["StateLocks"]["Resource"] == [
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/globex-locks"
    ]
    assert r.stack_outputs["lockTableName"] == "globex-locks"


def bastion_root_volume(run: StackRun) -> None:
    assert instance(run.recording).inputs["rootBlockDevice"]["volumeSize"] == 64


def inference_subject(run: StackRun) -> None:
    r = run.recording
    [statement] = policy(named(r, ROLE, "ps-globex-eks-inference-role"), "assumeRolePolicy")[
        "Statement"
    ]
    [sub] = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert sub == "system:serviceaccount:serving:vllm"
    assert ("serving", "vllm") in service_accounts(r)
    assert r.stack_outputs["serviceAccountAnnotations"]["serving:vllm"] == (
        f"eks.amazonaws.com/role-arn: {ROLES}ps-globex-eks-inference-role"
    )
    assert helm(r)["inference"]["serviceAccount"] == {
        "namespace": "serving",
        "name": "vllm",
        "create": False,
        "annotations": {"eks.amazonaws.com/role-arn": f"{ROLES}ps-globex-eks-inference-role"},
    }


def inference_existing_bucket(run: StackRun) -> None:
    r = run.recording
    # the customer's bucket is read; none is created for the models
    assert [b.name for b in r.by_type("aws:s3/bucket:Bucket")] == ["data-bucket"]
    read = document(r, "ps-globex-inference-models-read")
    assert read["ModelCheckpointsList"]["Resource"] == ["arn:aws:s3:::globex-checkpoints"]
    assert read["ModelCheckpointsReadObjects"]["Resource"] == ["arn:aws:s3:::globex-checkpoints/*"]
    assert r.stack_outputs["modelsBucketName"] == "globex-checkpoints"
    assert helm(r)["inference"]["modelsBucketName"] == "globex-checkpoints"
    assert parameters(r)["/poolside/deployment/globex/models-bucket-name"] == "globex-checkpoints"


def inference_existing_key(run: StackRun) -> None:
    read = document(run.recording, "ps-globex-inference-models-read")
    assert read["DecryptWithBucketKey"] == {
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [CHECKPOINTS_KEY],
    }


def inference_enabled(run: StackRun) -> None:
    r = run.recording
    assert not [role for role in r.by_type(ROLE) if "inference" in role.inputs["name"]]
    assert "modelsBucketName" not in r.stack_outputs
    assert "inferenceRoleArn" not in r.stack_outputs
    assert "inference" not in helm(r)
    assert r.by_type("aws:s3/bucket:Bucket") == []  # no models bucket (the data bucket is existing)


def inference_retain(run: StackRun) -> None:
    [models] = [
        b for b in run.recording.by_type("aws:s3/bucket:Bucket") if b.name == "models-bucket"
    ]
    assert models.inputs["bucket"] == f"poolside-hooli-models-{ACCOUNT_ID}"
    assert not models.retain_on_delete and not models.protect


KEY_RESOURCE_TYPES = ("poolside:aws:KmsKey", "aws:kms/key:Key", "aws:kms/alias:Alias")
KEY_ARN = r"arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-z-]+"


def no_key_created(recording: Recording) -> None:
    assert [r for r in recording.resources if r.type in KEY_RESOURCE_TYPES] == []
    assert "kmsKeyAlias" not in recording.stack_outputs


def key_arns_in_plan(recording: Recording) -> set[str]:
    """Every key ARN any input or output of the plan names."""
    text = json.dumps([[r.inputs for r in recording.resources], recording.stack_outputs])
    return set(re.findall(KEY_ARN, text))


def sse_keys(recording: Recording) -> dict[str, str]:
    """The SSE-KMS key of each bucket the stack creates, by the component's name."""
    found = {}
    for config in recording.by_type(SSE_CONFIGURATION):
        [rule] = config.inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        found[config.name.removesuffix("-encryption")] = rule["applyServerSideEncryptionByDefault"][
            "kmsMasterKeyId"
        ]
    return found


def existing_key_for_created_buckets(run: StackRun) -> None:
    r = run.recording
    no_key_created(r)
    assert sse_keys(r) == {"data": HOOLI_KEY, "models": HOOLI_KEY}
    assert cluster_inputs(r)["encryptionConfigKeyArn"] == HOOLI_KEY
    assert instance(r).inputs["rootBlockDevice"]["kmsKeyId"] == HOOLI_KEY
    table = one(r, "aws:dynamodb/table:Table")
    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": HOOLI_KEY}
    assert r.stack_outputs["kmsKeyArn"] == HOOLI_KEY
    assert parameters(r)["/poolside/deployment/hooli/kms-key-arn"] == HOOLI_KEY
    assert key_arns_in_plan(r) == {HOOLI_KEY}
    assert ("aws:kms/getKey:getKey", {"keyId": HOOLI_KEY}) in run.calls


def key_statements(recording: Recording) -> dict[tuple[str, str], dict[str, Any]]:
    """Every statement of the plan's customer-managed policies that names a key, by (policy,
    Sid)."""
    return {
        (p.inputs["name"], stmt["Sid"]): stmt
        for p in recording.by_type(POLICY)
        for stmt in policy(p)["Statement"]
        if re.search(KEY_ARN, json.dumps(stmt.get("Resource")))
    }


ENCRYPT_DECRYPT = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]


def existing_key_everywhere(run: StackRun) -> None:
    r = run.recording
    no_key_created(r)
    key = [UMBRELLA_KEY]
    # every grant of a key, in every policy, names the customer's, and these are all of them
    statements = key_statements(r)
    assert {name: stmt["Resource"] for name, stmt in statements.items()} == {
        ("poolside-umbrella-pod-kms-access", "UseDeploymentKey"): key,
        ("poolside-umbrella-bastion-default", "ReadDeploymentKey"): key,
        ("poolside-umbrella-bastion-default", "UseDeploymentKey"): key,
        ("poolside-umbrella-bastion-default", "DenyKeyDestruction"): key,
        ("poolside-umbrella-bedrock-customization-data-access", "CustomizationDataKey"): key,
        ("poolside-umbrella-ebs-csi-kms", "GrantsForEncryptedVolumes"): key,
        ("poolside-umbrella-ebs-csi-kms", "DataKeysOfEncryptedVolumes"): key,
        ("poolside-umbrella-inference-models-read", "DecryptWithDeploymentKey"): key,
    }
    assert statements["poolside-umbrella-pod-kms-access", "UseDeploymentKey"]["Action"] == (
        ENCRYPT_DECRYPT
    )
    [repository] = r.by_type("aws:ecr/repository:Repository")
    assert repository.inputs["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": UMBRELLA_KEY}
    ]
    assert sse_keys(r) == {"models": UMBRELLA_KEY}  # the data bucket is the customer's
    assert cluster_inputs(r)["encryptionConfigKeyArn"] == UMBRELLA_KEY
    assert instance(r).inputs["rootBlockDevice"]["kmsKeyId"] == UMBRELLA_KEY
    assert r.stack_outputs["kmsKeyArn"] == UMBRELLA_KEY
    assert parameters(r)["/poolside/deployment/umbrella/kms-key-arn"] == UMBRELLA_KEY
    assert key_arns_in_plan(r) == {UMBRELLA_KEY}
    assert ("aws:kms/getKey:getKey", {"keyId": UMBRELLA_KEY}) in run.calls


BUCKET_SATELLITES = {
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    SSE_CONFIGURATION,
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
}


def created_buckets(recording: Recording) -> set[str]:
    """The components of the buckets the stack creates (`data`, `models`), and that each has
    every one of its settings."""
    components = {b.name for b in recording.by_type("poolside:aws:Bucket")}
    for name in components:
        assert {c.type for c in children_named(recording, name)} == BUCKET_SATELLITES
    assert len([r for r in recording.resources if r.type in BUCKET_SATELLITES]) == 7 * len(
        components
    )
    return components


def children_named(recording: Recording, component_name: str) -> list[RecordedResource]:
    [component] = [r for r in recording.by_type("poolside:aws:Bucket") if r.name == component_name]
    return [r for r in recording.resources if r.parent == component.urn]


def existing_bucket(run: StackRun) -> None:
    r = run.recording
    assert created_buckets(r) == {"models"}
    bucket, objects = "arn:aws:s3:::umbrella-data", "arn:aws:s3:::umbrella-data/*"
    grants = {
        "poolside-umbrella-pod-s3-access": "PoolsideBucket",
        "poolside-umbrella-bastion-default": "DeploymentBucket",
        "poolside-umbrella-bedrock-customization-data-access": "CustomizationData",
    }
    for policy_name, prefix in grants.items():
        statements = document(r, policy_name)
        assert statements[f"{prefix}List"]["Resource"] == [bucket]
        assert statements[f"{prefix}ReadWriteObjects"]["Resource"] == [objects]
    assert r.stack_outputs["bucketName"] == "umbrella-data"
    assert r.stack_outputs["bucketArn"] == bucket
    assert parameters(r)["/poolside/deployment/umbrella/bucket-name"] == "umbrella-data"
    # encrypted with the deployment's key (the default): granted as that key, no second grant
    assert "UseBucketKey" not in json.dumps([p.inputs["policy"] for p in r.by_type(POLICY)])
    assert ("aws:s3/getBucket:getBucket", {"bucket": "umbrella-data"}) in run.calls


def existing_bucket_own_key(run: StackRun) -> None:
    r = run.recording
    assert created_buckets(r) == set()
    [created_key] = r.by_type("aws:kms/key:Key")
    deployment_key = created_key.outputs["arn"]
    kms = document(r, "poolside-initech-pod-kms-access")
    assert kms == {
        "UseDeploymentKey": {
            "Effect": "Allow",
            "Action": ENCRYPT_DECRYPT,
            "Resource": [deployment_key],
        },
        "UseBucketKey": {
            "Effect": "Allow",
            "Action": ENCRYPT_DECRYPT,
            "Resource": [INITECH_BUCKET_KEY],
        },
    }
    s3 = document(r, "poolside-initech-pod-s3-access")
    assert s3["PoolsideBucketList"]["Resource"] == ["arn:aws:s3:::initech-data"]
    assert "kms:" not in json.dumps(s3)  # the pod's keys are its KMS Access Policy's
    assert r.stack_outputs["bucketName"] == "initech-data"
    assert r.stack_outputs["kmsKeyArn"] == deployment_key
    assert ("aws:kms/getKey:getKey", {"keyId": INITECH_BUCKET_KEY}) in run.calls


def addons_of(recording: Recording) -> dict[str, dict[str, Any]]:
    return {a.inputs["addonName"]: a.inputs for a in recording.by_type("aws:eks/addon:Addon")}


def addon_version(name: str, version: str) -> Callable[[StackRun], None]:
    def check(run: StackRun) -> None:
        assert addons_of(run.recording)[name]["addonVersion"] == version
        looked_up = {args["addonName"] for token, args in run.calls if "getAddonVersion" in token}
        assert name not in looked_up  # pinned: not resolved

    return check


def optional_addon(name: str) -> Callable[[StackRun], None]:
    def check(run: StackRun) -> None:
        assert name in addons_of(run.recording)  # off by default, on here

    return check


def addon_off(name: str) -> Callable[[StackRun], None]:
    def check(run: StackRun) -> None:
        assert name not in addons_of(run.recording)

    return check


def vpc_cni_off(run: StackRun) -> None:
    addon_off("vpc-cni")(run)
    assert not [r for r in run.recording.by_type(ROLE) if r.inputs["name"].endswith("vpc-cni-role")]


def ebs_csi_off(run: StackRun) -> None:
    addon_off("aws-ebs-csi-driver")(run)
    assert not [r for r in run.recording.by_type(ROLE) if r.inputs["name"].endswith("ebs-csi-role")]


def addons_on_existing_cluster(run: StackRun) -> None:
    found = addons_of(run.recording)
    assert set(found) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}
    assert {a["clusterName"] for a in found.values()} == {EXISTING_CLUSTER}


@dataclass(frozen=True)
class Wire:
    key: str
    """The config key, without the `poolside:` namespace."""
    stack: str
    """`created` or `existing`: the stack that sets it."""
    check: Callable[[StackRun], None]


WIRING = [
    Wire("deploymentName", "created", deployment_name),
    Wire("deploymentPrefix", "created", deployment_prefix),
    Wire("tags", "created", tags),
    Wire("kms.existingKeyArn", "lean", existing_key_for_created_buckets),
    Wire("kms.existingKeyArn", "customer", existing_key_everywhere),
    Wire("kms.deletionWindowInDays", "created", kms_deletion_window),
    Wire("kms.alias", "created", kms_alias),
    Wire("kms.retainOnDelete", "created", kms_retain),
    Wire("bucket.existingBucketName", "customer", existing_bucket),
    Wire("bucket.existingBucketKmsKeyArn", "existing", existing_bucket_own_key),
    Wire("bucket.name", "created", bucket_name),
    Wire("bucket.noncurrentVersionExpirationDays", "created", bucket_noncurrent_days),
    Wire("bucket.retainOnDelete", "created", bucket_retain),
    Wire("ecr.repositories", "created", ecr_repositories),
    Wire("ecr.imageTagMutability", "created", ecr_mutability),
    Wire("ecr.scanOnPush", "created", ecr_scan_on_push),
    Wire("ecr.untaggedImageExpirationDays", "created", ecr_untagged_days),
    Wire("ecr.retainOnDelete", "created", ecr_retain),
    Wire("cluster.existingClusterName", "existing", existing_cluster_name),
    Wire("cluster.existingOidcProviderArn", "existing", existing_provider),
    Wire("cluster.kubernetesVersion", "created", kubernetes_version),
    Wire("cluster.vpcId", "created", vpc_id),
    Wire("cluster.privateSubnetIds", "created", private_subnets),
    Wire("cluster.publicSubnetIds", "created", public_subnets),
    Wire("cluster.endpointPublicAccess", "created", endpoint_public_access),
    Wire("cluster.publicAccessCidrs", "created", public_access_cidrs),
    Wire("cluster.authenticationMode", "created", authentication_mode),
    Wire("cluster.enabledLogTypes", "created", log_types),
    Wire("cluster.nodeGroups[].name", "created", node_group_name),
    Wire("cluster.nodeGroups[].instanceTypes", "created", node_group_instance_types),
    Wire("cluster.nodeGroups[].minSize", "created", scaling("minSize", 0)),
    Wire("cluster.nodeGroups[].desiredSize", "created", scaling("desiredSize", 4)),
    Wire("cluster.nodeGroups[].maxSize", "created", scaling("maxSize", 6)),
    Wire("cluster.nodeGroups[].diskSizeGib", "created", node_group_disk),
    Wire("cluster.nodeGroups[].gpu", "created", node_group_gpu),
    Wire("cluster.nodeGroups[].labels", "created", node_group_labels),
    Wire("cluster.nodeGroups[].taints[].key", "created", taint("key", "nvidia.com/gpu")),
    Wire("cluster.nodeGroups[].taints[].value", "created", taint("value", "true")),
    Wire("cluster.nodeGroups[].taints[].effect", "created", taint("effect", "NO_SCHEDULE")),
    Wire("cluster.createServiceAccounts", "created", created_service_accounts),
    Wire("cluster.createServiceAccounts", "existing", existing_service_accounts),
    Wire("podRole.namespace", "created", pod_namespace),
    Wire("podRole.serviceAccounts", "created", pod_service_accounts),
    Wire("loadBalancerController.enabled", "existing", controller_enabled),
    Wire("loadBalancerController.namespace", "created", controller_subject),
    Wire("loadBalancerController.serviceAccount", "created", controller_service_account),
    Wire("bedrock.enabled", "existing", bedrock_enabled),
    Wire("bedrock.models", "created", bedrock_models),
    Wire("bedrock.inferenceProfiles[].id", "created", bedrock_profiles),
    Wire("bedrock.inferenceProfiles[].regions", "created", bedrock_profile_regions),
    Wire("bedrock.customizationBaseModels", "created", bedrock_base_models),
    Wire("inference.enabled", "existing", inference_enabled),
    Wire("inference.namespace", "created", inference_subject),
    Wire("inference.serviceAccount", "created", inference_subject),
    Wire("inference.existingBucketName", "created", inference_existing_bucket),
    Wire("inference.existingBucketKmsKeyArn", "created", inference_existing_key),
    Wire("inference.retainOnDelete", "lean", inference_retain),
    Wire("addons.vpcCni.enabled", "lean", vpc_cni_off),
    Wire("addons.vpcCni.version", "created", addon_version("vpc-cni", "v1.19.0-eksbuild.1")),
    Wire("addons.kubeProxy.enabled", "lean", addon_off("kube-proxy")),
    Wire("addons.kubeProxy.version", "created", addon_version("kube-proxy", "v1.33.0-eksbuild.2")),
    Wire("addons.coredns.enabled", "lean", addon_off("coredns")),
    Wire("addons.coredns.version", "created", addon_version("coredns", "v1.11.4-eksbuild.2")),
    Wire("addons.ebsCsiDriver.enabled", "lean", ebs_csi_off),
    Wire(
        "addons.ebsCsiDriver.version",
        "created",
        addon_version("aws-ebs-csi-driver", "v1.44.0-eksbuild.1"),
    ),
    Wire("addons.metricsServer.enabled", "created", optional_addon("metrics-server")),
    Wire(
        "addons.metricsServer.version",
        "created",
        addon_version("metrics-server", "v0.7.2-eksbuild.3"),
    ),
    Wire("addons.snapshotController.enabled", "created", optional_addon("snapshot-controller")),
    Wire(
        "addons.snapshotController.version",
        "created",
        addon_version("snapshot-controller", "v8.2.0-eksbuild.1"),
    ),
    Wire("addons.manageOnExistingCluster", "existing", addons_on_existing_cluster),
    Wire("bastion.enabled", "existing", bastion_enabled),
    Wire("bastion.instanceType", "created", bastion_instance_type),
    Wire("bastion.subnetId", "created", bastion_subnet),
    Wire("bastion.amiId", "created", bastion_ami),
    Wire("bastion.installTools", "created", bastion_install_tools),
    Wire("bastion.existingLockTableName", "created", bastion_lock_table),
    Wire("bastion.rootVolumeSizeGib", "created", bastion_root_volume),
]


@pytest.mark.parametrize("wire", WIRING, ids=lambda w: f"{w.key}-{w.stack}")
def test_the_value_reaches_its_resource(wire: Wire) -> None:
    wire.check(stack(wire.stack))


# -- the table covers the config, with values that are not the defaults -------------------------


def leaf_keys() -> set[str]:
    """Every key of the reference that holds a value (not a section)."""
    return {
        key.removeprefix(f"{NAMESPACE}:")
        for key, type_, _, _ in reference_rows()
        if type_ not in ("object", "list of objects")
    }


def test_every_config_field_has_a_row() -> None:
    assert {wire.key for wire in WIRING} == leaf_keys()


def field(key: str) -> FieldInfo:
    """The model field of a reference key (`cluster.nodeGroups[].taints[].value`)."""
    model: type[BaseModel] = StackConfig
    *sections, last = key.replace("[]", "").split(".")
    by_alias = {f.alias: f for f in model.model_fields.values()}
    for name in sections:
        nested = section_model(by_alias[name].annotation)
        assert nested is not None, name
        by_alias = {f.alias: f for f in nested.model_fields.values()}
    return by_alias[last]


def values_at(config: Any, key: str) -> list[Any]:
    """The values a stack config sets at `key`, one per list item on the way."""
    if not key:
        return [config]
    head, _, rest = key.partition(".")
    name = head.removesuffix("[]")
    if not isinstance(config, dict) or name not in config:
        return []
    items = config[name] if head.endswith("[]") else [config[name]]
    return [value for item in items for value in values_at(item, rest)]


REMOVED = {"bedrock.inferenceProfiles[].regions"}  # refused whatever its value


@pytest.mark.parametrize("wire", WIRING, ids=lambda w: f"{w.key}-{w.stack}")
def test_every_row_sets_a_value_other_than_the_default(wire: Wire) -> None:
    values = values_at(STACKS[wire.stack], wire.key)
    if wire.key in REMOVED:
        assert values == []
        return
    assert values, f"{wire.stack} does not set {wire.key}"
    info = field(wire.key)
    if info.is_required():
        return  # no default to differ from (deploymentName, a node group's name, ...)
    default = to_jsonable_python(info.get_default(call_default_factory=True))
    assert all(value != default for value in values), (wire.key, default)
