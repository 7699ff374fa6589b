"""The whole program under mocks: what it registers, how it is wired, what it exports."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from pulumi.runtime import rpc

from offline_preview.engine import Recording
from stack_config import StackConfigError
from tests.support.bastion import AL2023_PARAMETER, GET_PARAMETER
from tests.support.deployment import EXISTING_PROVIDER, existing_cluster, parameter_names
from tests.support.harness import (
    ACCOUNT_ID,
    CLUSTER,
    PARTITIONS,
    PROJECT_ROOT,
    REGIONS,
    SONNET_4,
    record_stack,
    run_stack,
    secret_value,
)
from tests.support.policies import irsa_trust

# (name, type): the cluster and its node groups are both "cluster", of different types.
COMPONENTS = [
    ("aws-load-balancer-controller", "poolside:aws:IamRole"),
    ("bastion", "poolside:aws:Bastion"),
    ("bedrock-customization", "poolside:aws:IamRole"),
    ("cluster", "poolside:aws:EksCluster"),
    ("cluster", "poolside:aws:NodeGroups"),
    ("data", "poolside:aws:Bucket"),
    ("ebs-csi", "poolside:aws:IamRole"),
    ("ecr", "poolside:aws:EcrRepositories"),
    ("inference", "poolside:aws:IamRole"),
    ("kms", "poolside:aws:KmsKey"),
    ("models", "poolside:aws:Bucket"),
    ("oidc", "poolside:aws:OidcProvider"),
    ("parameters", "poolside:aws:DeploymentParameters"),
    ("pod", "poolside:aws:IamRole"),
    ("vpc-cni", "poolside:aws:IamRole"),
]


def test_program_builds_every_component_under_the_stack() -> None:
    recording = run_stack({"ecr": {"repositories": ["api", "web"]}})
    stack = recording.one("pulumi:pulumi:Stack", "poolside-test")
    components = sorted((r.name, r.type) for r in recording.resources if r.parent == stack.urn)
    assert components == COMPONENTS
    # Every custom resource belongs to a component: none is created at the top level.
    assert all(not r.custom for r in recording.resources if r.parent == stack.urn)


def test_bucket_and_repositories_are_encrypted_with_the_stacks_key() -> None:
    recording = run_stack({"ecr": {"repositories": ["api"]}})
    key = recording.one("aws:kms/key:Key", "kms-key")
    encryption = recording.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "data-encryption",
    )
    rule = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.urn in encryption.dependencies
    repo = recording.one("aws:ecr/repository:Repository", "ecr-api")
    assert repo.inputs["encryptionConfigurations"][0]["kmsKey"] == key.outputs["arn"]
    assert key.urn in repo.property_dependencies["encryptionConfigurations"]


def test_names_follow_the_deployment_prefix() -> None:
    recording = run_stack({"deploymentPrefix": "ps-acme"})
    assert recording.one("aws:kms/alias:Alias", "kms-alias").inputs["name"] == "alias/ps-acme"
    bucket = recording.one("aws:s3/bucket:Bucket", "data-bucket")
    assert bucket.inputs["bucket"] == f"ps-acme-{ACCOUNT_ID}"


def test_explicit_names_win() -> None:
    recording = run_stack(
        {"kms": {"alias": "alias/customer-key"}, "bucket": {"name": "customer-poolside-data"}}
    )
    assert recording.one("aws:kms/alias:Alias", "kms-alias").inputs["name"] == (
        "alias/customer-key"
    )
    assert recording.one("aws:s3/bucket:Bucket", "data-bucket").inputs["bucket"] == (
        "customer-poolside-data"
    )


def test_every_taggable_resource_carries_the_merged_tags() -> None:
    recording = run_stack({"tags": {"owner": "platform"}, "ecr": {"repositories": ["api"]}})
    tagged = [r for r in recording.resources if "tags" in r.inputs]
    assert {r.type for r in tagged} == {
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:ecr/repository:Repository",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "eks:index:Cluster",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:ec2/instance:Instance",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:dynamodb/table:Table",
        "aws:ssm/parameter:Parameter",
        "aws:eks/accessEntry:AccessEntry",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "eks:index:ManagedNodeGroup",
        "aws:eks/addon:Addon",
        "aws:ec2/launchTemplate:LaunchTemplate",
    }
    # Taggable types the program creates but does not tag would show up here.
    untagged_taggable = {
        r.type
        for r in recording.resources
        if r.custom
        and "tags" not in r.inputs
        and r.type.split(":")[-1] in TAGGABLE_NAMES
        and not r.parent.split("::")[2].split("$")[-1].startswith("eks:index:")  # pulumi-eks tags
    }
    assert untagged_taggable == set()
    merged = {"owner": "platform", "poolside:deployment": "acme"}
    for resource in tagged:
        if resource.type == "aws:ec2/instance:Instance":
            # The console shows an instance by its Name tag; the volume carries the merged tags.
            assert resource.inputs["tags"] == {**merged, "Name": "poolside-acme-bastion"}
            assert resource.inputs["rootBlockDevice"]["tags"] == merged
        elif resource.type == "aws:ec2/launchTemplate:LaunchTemplate":
            # The template tags the instances and volumes it launches, too.
            assert resource.inputs["tags"] == merged
            assert resource.inputs["tagSpecifications"] == [
                {"resourceType": "instance", "tags": merged},
                {"resourceType": "volume", "tags": merged},
            ]
        else:
            assert resource.inputs["tags"] == merged, resource.name


TAGGABLE_NAMES = {
    "Key",
    "Bucket",
    "Repository",
    "Role",
    "Policy",
    "OpenIdConnectProvider",
    "Cluster",
    "InstanceProfile",
    "Instance",
    "SecurityGroup",
    "Table",
    "Parameter",
    "AccessEntry",
    "SecurityGroupIngressRule",
    "ManagedNodeGroup",
    "Addon",
    "LaunchTemplate",
}


def test_data_is_retained_on_destroy_by_default_and_per_section_on_request() -> None:
    data_types = ("aws:kms/", "aws:s3/", "aws:ecr/")
    default = run_stack({"ecr": {"repositories": ["api"]}})
    data = [r for r in default.resources if r.type.startswith(data_types)]
    # key and alias; the data and models buckets and their 6 settings each; repository and its
    # lifecycle policy
    assert len(data) == 18
    assert all(r.retain_on_delete for r in data)

    released = run_stack(
        {
            "ecr": {"repositories": ["api"], "retainOnDelete": False},
            "bucket": {"retainOnDelete": False},
            "inference": {"retainOnDelete": False},
        }
    )
    retained = {r.type.split("/")[0] for r in released.resources if r.retain_on_delete}
    # The key is still retained, and so is the bastion's state-lock table (it holds the locks).
    assert retained == {"aws:kms", "aws:dynamodb"}


@pytest.mark.parametrize("partition", PARTITIONS)
def test_stack_outputs(partition: str) -> None:
    recording = run_stack({"ecr": {"repositories": ["api"]}}, partition=partition)
    region = REGIONS[partition]
    outputs = recording.stack_outputs
    key_arn = recording.one("aws:kms/key:Key", "kms-key").outputs["arn"]
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    issuer = (
        recording.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc-provider")
        .inputs["url"]
        .removeprefix("https://")
    )
    assert issuer.startswith(f"oidc.eks.{region}.{suffix}/id/")
    roles = f"arn:{partition}:iam::{ACCOUNT_ID}:role/"
    instance_id = recording.one("aws:ec2/instance:Instance", "bastion-instance").id
    inner = recording.one("aws:eks/cluster:Cluster", "cluster-eks-eksCluster")
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    group = recording.one("aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    customization_role = f"{roles}poolside-acme-bedrock-customization-role"
    # Bedrock is not offered in China: the harness switches it off there
    china = partition == "aws-cn"
    bedrock_outputs = {} if china else {"bedrockCustomizationRoleArn": customization_role}
    bedrock_values = {} if china else {"bedrock": {"customizationRoleArn": customization_role}}
    # The cluster security group EKS made (the one the bastion's API rule opens).
    [api_door] = recording.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    cluster_security_group = inner.outputs["vpcConfig"]["clusterSecurityGroupId"]
    assert api_door.inputs["securityGroupId"] == cluster_security_group
    repository_url = f"{ACCOUNT_ID}.dkr.ecr.{region}.{suffix}/poolside-acme/api"
    assert outputs == {
        "accountId": ACCOUNT_ID,
        "region": region,
        "partition": partition,
        "bucketName": f"poolside-acme-{ACCOUNT_ID}",
        "bucketArn": f"arn:{partition}:s3:::poolside-acme-{ACCOUNT_ID}",
        "kmsKeyArn": key_arn,
        "kmsKeyAlias": "alias/poolside-acme",
        "ecrRepositoryNames": {"api": "poolside-acme/api"},
        "ecrRepositoryArns": {
            "api": f"arn:{partition}:ecr:{region}:{ACCOUNT_ID}:repository/poolside-acme/api"
        },
        "ecrRepositoryUrls": {"api": repository_url},
        "clusterName": "poolside-acme",
        # the cluster pulumi-eks creates, its endpoint (the mocks make it up from its name)
        "clusterEndpoint": inner.outputs["endpoint"],
        "vpcId": CLUSTER["vpcId"],
        "clusterSecurityGroupId": cluster_security_group,
        "kubeconfigCommand": f"aws eks update-kubeconfig --name poolside-acme --region {region}",
        # pulumi-eks's kubeconfig of the cluster, marked secret
        "kubeconfig": {
            rpc._special_sig_key: rpc._special_secret_sig,
            "value": eks.outputs["kubeconfigJson"],
        },
        "oidcProviderArn": f"arn:{partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        "oidcIssuerUrl": f"https://{issuer}",
        "podRoleArn": f"{roles}poolside-acme-eks-pod-role",
        "modelsBucketName": f"poolside-acme-models-{ACCOUNT_ID}",
        "inferenceRoleArn": f"{roles}poolside-acme-eks-inference-role",
        **bedrock_outputs,
        "loadBalancerControllerRoleArn": f"{roles}poolside-acme-aws-load-balancer-controller",
        "loadBalancerControllerHelmValues": {
            "clusterName": "poolside-acme",
            "region": region,
            "vpcId": CLUSTER["vpcId"],
            "serviceAccount": {
                "create": True,
                "name": "aws-load-balancer-controller",
                "annotations": {
                    "eks.amazonaws.com/role-arn": f"{roles}poolside-acme-aws-load-balancer-controller"
                },
            },
        },
        "vpcCniRoleArn": f"{roles}poolside-acme-eks-vpc-cni-role",
        "ebsCsiDriverRoleArn": f"{roles}poolside-acme-eks-ebs-csi-role",
        "serviceAccountAnnotations": {
            # as Poolside's charts name them: the core API's, and the inference pods'
            "poolside:core-api-sa": (
                f"eks.amazonaws.com/role-arn: {roles}poolside-acme-eks-pod-role"
            ),
            "poolside-models:inference": (
                f"eks.amazonaws.com/role-arn: {roles}poolside-acme-eks-inference-role"
            ),
            "kube-system:aws-load-balancer-controller": (
                f"eks.amazonaws.com/role-arn: {roles}poolside-acme-aws-load-balancer-controller"
            ),
        },
        "parameterPath": "/poolside/deployment/acme/",
        "poolsideHelmValues": {
            "region": region,
            "parameterPath": "/poolside/deployment/acme/",
            "bucketName": f"poolside-acme-{ACCOUNT_ID}",
            "kmsKeyArn": key_arn,
            "ecrRepositoryUrls": {"api": repository_url},
            "podRole": {
                "roleArn": f"{roles}poolside-acme-eks-pod-role",
                "serviceAccounts": [
                    {
                        "namespace": "poolside",
                        "name": "core-api-sa",
                        "create": True,  # the stack creates none: the chart does
                        "annotations": {
                            "eks.amazonaws.com/role-arn": f"{roles}poolside-acme-eks-pod-role"
                        },
                    }
                ],
            },
            "inference": {
                "roleArn": f"{roles}poolside-acme-eks-inference-role",
                "modelsBucketName": f"poolside-acme-models-{ACCOUNT_ID}",
                "serviceAccount": {
                    "namespace": "poolside-models",
                    "name": "inference",
                    "create": True,
                    "annotations": {
                        "eks.amazonaws.com/role-arn": f"{roles}poolside-acme-eks-inference-role"
                    },
                },
            },
            **bedrock_values,
        },
        "bastionRoleArn": f"{roles}poolside-acme-bastion-role",
        "bastionInstanceProfileName": "poolside-acme-bastion-instance-profile",
        "bastionInstanceProfileArn": (
            f"arn:{partition}:iam::{ACCOUNT_ID}:instance-profile/poolside-acme-bastion-instance-profile"
        ),
        "bastionInstanceId": instance_id,
        "bastionStartSessionCommand": f"aws ssm start-session --target {instance_id} --region {region}",
        "bastionSecurityGroupId": group.id,
        "lockTableName": "poolside-acme-terraform-locks",
    }
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance_id)
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group.id)
    assert re.fullmatch(r"sg-[0-9a-f]{17}", cluster_security_group)
    assert cluster_security_group != group.id
    assert outputs["clusterEndpoint"].startswith("https://")
    assert outputs["clusterEndpoint"].endswith(f".{region}.eks.{suffix}")
    assert json.loads(secret_value(outputs["kubeconfig"]))["clusters"] == [
        {"name": "poolside-acme"}
    ]
    assert key_arn.startswith(f"arn:{partition}:kms:{region}:{ACCOUNT_ID}:key/")


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_no_commercial_arn_leaks_into_other_partitions(partition: str) -> None:
    recording = run_stack({"ecr": {"repositories": ["api"]}}, partition=partition)
    text = json.dumps([r.inputs for r in recording.resources]) + json.dumps(recording.stack_outputs)
    assert "arn:aws:" not in text
    assert f"arn:{partition}:" in text


def test_invalid_config_registers_nothing_and_raises_one_line_per_problem() -> None:
    with pytest.raises(StackConfigError) as caught:
        run_stack({"deploymentName": "Acme_Prod", "kms": {"deletionWindowInDays": 3}})
    assert caught.value.problems == [
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme_Prod")',
        "poolside:kms.deletionWindowInDays: must be 7-30 days (got 3)",
    ]


def test_invalid_config_leaves_only_the_stack_registered() -> None:
    from offline_preview.engine import RecordingMonitor

    recorded: list[Recording] = []
    original = RecordingMonitor.__init__

    def capture(self: RecordingMonitor, mocks: object, recording: Recording) -> None:
        recorded.append(recording)
        original(self, mocks, recording)  # type: ignore[arg-type]

    RecordingMonitor.__init__ = capture  # type: ignore[method-assign]
    try:
        with pytest.raises(StackConfigError):
            run_stack({"ecr": {"repositories": ["Bad Name"]}})
    finally:
        RecordingMonitor.__init__ = original  # type: ignore[method-assign]
    [recording] = recorded
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def test_the_environment_is_looked_up_once() -> None:
    assert sorted(token for token, _ in record_stack().calls) == [
        # the newest version of each add-on that is not pinned: vpc-cni, kube-proxy, coredns,
        # aws-ebs-csi-driver
        *["aws:eks/getAddonVersion:getAddonVersion"] * 4,
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
        "aws:index/getRegion:getRegion",
        "aws:ssm/getParameter:getParameter",  # the bastion's Amazon Linux 2023 AMI
    ]


def test_program_code_never_writes_a_literal_partition() -> None:
    files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    program = [f for f in files if not f.startswith("tests/")] or [
        str(p.relative_to(PROJECT_ROOT))
        for p in PROJECT_ROOT.rglob("*.py")
        if "tests" not in p.parts
    ]
    offenders = [
        f"{name}:{number}"
        for name in program
        if (PROJECT_ROOT / name).exists()
        for number, line in enumerate((PROJECT_ROOT / name).read_text().splitlines(), 1)
        if re.search(r"arn:aws(-us-gov|-cn)?:", line)
    ]
    assert offenders == []


def test_program_never_reads_the_shared_folder() -> None:
    offenders = [
        str(p.relative_to(PROJECT_ROOT))
        for p in PROJECT_ROOT.rglob("*.py")
        if "venv" not in p.parts and "tests" not in p.parts and "../shared" in p.read_text()
    ]
    assert offenders == []


POD_POLICIES_WITH_BEDROCK = [
    "poolside-acme-pod-bedrock-customization-job",
    "poolside-acme-pod-bedrock-model-invocation",
    "poolside-acme-pod-bedrock-read-only",
    "poolside-acme-pod-kms-access",
    "poolside-acme-pod-marketplace-metering",
    "poolside-acme-pod-s3-access",
]


@pytest.mark.parametrize(
    ("partition", "bedrock", "names"),
    [
        ("aws", True, POD_POLICIES_WITH_BEDROCK),
        ("aws-us-gov", True, POD_POLICIES_WITH_BEDROCK),
        (
            "aws",
            False,
            [
                "poolside-acme-pod-kms-access",
                "poolside-acme-pod-marketplace-metering",
                "poolside-acme-pod-s3-access",
            ],
        ),
        # AWS Marketplace is not offered in China: no metering policy there.
        ("aws-cn", False, ["poolside-acme-pod-kms-access", "poolside-acme-pod-s3-access"]),
    ],
)
def test_pod_role_has_the_policies_of_the_spec_its_partition_offers(
    partition: str, bedrock: bool, names: list[str]
) -> None:
    recording = run_stack({"bedrock": {"enabled": bedrock}}, partition=partition)
    pod = recording.one("poolside:aws:IamRole", "pod")
    created = sorted(
        p.inputs["name"] for p in recording.by_type("aws:iam/policy:Policy") if p.parent == pod.urn
    )
    assert created == names
    attached = sorted(
        a.inputs["policyArn"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == "poolside-acme-eks-pod-role"
    )
    assert attached == [f"arn:{partition}:iam::{ACCOUNT_ID}:policy/{name}" for name in names]


def test_pod_policies_are_wired_to_the_stacks_bucket_key_and_customization_role() -> None:
    recording = run_stack()
    policies = {
        p.inputs["name"]: json.loads(p.inputs["policy"])
        for p in recording.by_type("aws:iam/policy:Policy")
    }
    bucket_arn = f"arn:aws:s3:::poolside-acme-{ACCOUNT_ID}"
    key_arn = recording.one("aws:kms/key:Key", "kms-key").outputs["arn"]  # a key id: made up
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/poolside-acme-bedrock-customization-role"
    s3 = policies["poolside-acme-pod-s3-access"]["Statement"]
    assert [s["Resource"] for s in s3] == [[bucket_arn], [f"{bucket_arn}/*"]]
    assert policies["poolside-acme-pod-kms-access"]["Statement"][0]["Resource"] == [key_arn]
    pass_role = policies["poolside-acme-pod-bedrock-customization-job"]["Statement"][-1]
    assert pass_role["Action"] == ["iam:PassRole"]
    assert pass_role["Resource"] == [role_arn]
    customization = policies["poolside-acme-bedrock-customization-data-access"]["Statement"]
    assert {r for s in customization for r in s["Resource"]} == {
        bucket_arn,
        f"{bucket_arn}/*",
        key_arn,
    }


def test_bedrock_can_be_switched_off() -> None:
    recording = run_stack({"bedrock": {"enabled": False}})
    names = {p.inputs["name"] for p in recording.by_type("aws:iam/policy:Policy")}
    assert not any("bedrock" in name for name in names)
    assert {r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")} == {
        "poolside-acme-eks-cluster-role",
        "poolside-acme-eks-node-role",
        "poolside-acme-eks-pod-role",
        "poolside-acme-aws-load-balancer-controller",
        "poolside-acme-eks-vpc-cni-role",
        "poolside-acme-eks-ebs-csi-role",
        "poolside-acme-eks-inference-role",
        "poolside-acme-bastion-role",
    }
    assert "bedrockCustomizationRoleArn" not in recording.stack_outputs
    # No policy of the stack mentions a Bedrock action.
    actions = [
        action
        for p in recording.by_type("aws:iam/policy:Policy")
        for statement in json.loads(p.inputs["policy"])["Statement"]
        for action in _as_list(statement.get("Action", statement.get("NotAction", [])))
    ]
    assert actions
    assert [a for a in actions if a.startswith("bedrock:")] == []


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_load_balancer_controller_role_can_be_switched_off_or_moved() -> None:
    off = run_stack({"loadBalancerController": {"enabled": False}})
    assert "loadBalancerControllerRoleArn" not in off.stack_outputs
    assert all("load-balancer" not in r.inputs["name"] for r in off.by_type("aws:iam/role:Role"))
    moved = run_stack({"loadBalancerController": {"namespace": "ingress", "serviceAccount": "lbc"}})
    trust = json.loads(
        moved.one("aws:iam/role:Role", "aws-load-balancer-controller-role").inputs[
            "assumeRolePolicy"
        ]
    )
    [subject] = [
        v
        for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items()
        if k.endswith(":sub")
    ]
    assert subject == "system:serviceaccount:ingress:lbc"


EXISTING = {
    "cluster": {"existingClusterName": "customer-eks"},
    "bastion": {"subnetId": "subnet-0123456789abcdef0"},
}


def test_existing_cluster_and_provider_create_no_cluster_and_no_provider() -> None:
    arn = EXISTING_PROVIDER
    recording = run_stack(
        {
            "cluster": {"existingClusterName": "customer-eks", "existingOidcProviderArn": arn},
            "bastion": {"subnetId": "subnet-0123456789abcdef0"},
        },
        cluster_overrides=existing_cluster(),
    )
    assert recording.by_type("eks:index:Cluster") == []
    assert recording.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert recording.stack_outputs["clusterName"] == "customer-eks"
    assert recording.stack_outputs["oidcProviderArn"] == arn
    trust = json.loads(recording.one("aws:iam/role:Role", "pod-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Federated": arn}
    # The bastion reaches the existing cluster's API through that cluster's security group.
    [rule] = recording.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["securityGroupId"].startswith("sg-")


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        (
            "arn:aws:iam::210987654321:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXISTING",
            "poolside:cluster.existingOidcProviderArn: must be a provider of this account and partition (arn:aws:iam::123456789012:oidc-provider/...) (got "
            '"arn:aws:iam::210987654321:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXISTING")',
        ),
        (
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER",
            "poolside:cluster.existingOidcProviderArn: names the provider of 'oidc.eks.us-east-1.amazonaws.com/id/OTHER', "
            "but cluster 'customer-eks' issues tokens as 'oidc.eks.us-east-1.amazonaws.com/id/EXISTING'",
        ),
    ],
)
def test_existing_provider_must_be_the_clusters_issuer_in_this_account(
    arn: str, message: str
) -> None:
    with pytest.raises(StackConfigError) as caught:
        run_stack(
            {
                **EXISTING,
                "cluster": {"existingClusterName": "customer-eks", "existingOidcProviderArn": arn},
            },
            cluster_overrides=existing_cluster(),
        )
    assert caught.value.problems == [message]


def test_existing_cluster_in_config_map_mode_cannot_take_the_bastions_access_entry() -> None:
    config_map_only = existing_cluster(
        accessConfigs=[
            {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        ]
    )
    with pytest.raises(StackConfigError) as caught:
        run_stack(EXISTING, cluster_overrides=config_map_only)
    [line] = caught.value.problems
    assert line.startswith(
        "poolside:cluster.existingClusterName: cluster 'customer-eks' authenticates with the aws-auth ConfigMap only"
    )
    config_map_only = existing_cluster(
        accessConfigs=[
            {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        ]
    )
    without_bastion = run_stack(
        {**EXISTING, "bastion": {"enabled": False}}, cluster_overrides=config_map_only
    )
    assert without_bastion.by_type("aws:eks/accessEntry:AccessEntry") == []


def test_bedrock_is_refused_in_china_and_profiles_must_serve_the_stack_region() -> None:
    with pytest.raises(StackConfigError) as caught:
        run_stack({"bedrock": {"enabled": True}}, partition="aws-cn")
    assert caught.value.problems == [
        "poolside:bedrock.enabled: Amazon Bedrock is not offered in the aws-cn partition: set it to false"
    ]
    # A commercial `us.` profile does not exist in GovCloud: the `us-gov.` one does.
    with pytest.raises(StackConfigError) as caught:
        run_stack(
            {"bedrock": {"inferenceProfiles": [{"id": f"us.{SONNET_4}"}]}}, partition="aws-us-gov"
        )
    assert caught.value.problems == [
        "poolside:bedrock.inferenceProfiles[0].id: a 'us' profile cannot be called from the "
        "stack's region us-gov-west-1 (its ARN would not exist there); use the profile of this "
        f'region\'s geography (us-gov.) (got "us.{SONNET_4}")'
    ]
    # Only the profile that cannot serve us-east-1 is refused, by its index.
    with pytest.raises(StackConfigError) as caught:
        run_stack(
            {
                "bedrock": {
                    "inferenceProfiles": [
                        {"id": f"us.{SONNET_4}"},
                        {"id": f"eu.{SONNET_4}"},
                        {"id": f"global.{SONNET_4}"},
                    ]
                }
            }
        )
    assert caught.value.problems == [
        "poolside:bedrock.inferenceProfiles[1].id: a 'eu' profile cannot be called from the "
        "stack's region us-east-1 (its ARN would not exist there); use the profile of this "
        f'region\'s geography (us., global.) (got "eu.{SONNET_4}")'
    ]
    served = run_stack(
        {"bedrock": {"inferenceProfiles": [{"id": f"us.{SONNET_4}"}, {"id": f"global.{SONNET_4}"}]}}
    )
    assert served.one("aws:iam/policy:Policy", "pod-pod-bedrock-model-invocation")


def test_profile_regions_are_no_longer_accepted() -> None:
    with pytest.raises(StackConfigError) as caught:
        run_stack(
            {"bedrock": {"inferenceProfiles": [{"id": f"us.{SONNET_4}", "regions": ["us-east-1"]}]}}
        )
    assert caught.value.problems == [
        "poolside:bedrock.inferenceProfiles[0].regions: is no longer used: the policy now grants "
        "the profile's model in every region it routes to (AWS adds regions over time), only "
        "through the profile; delete this key"
    ]


def test_iam_quota_problems_are_reported_with_the_other_environment_problems() -> None:
    accounts = [f"poolside-service-account-number-{i:02d}" for i in range(40)]
    # The pod role's trust policy, as IAM measures it, for the issuer EKS will give the cluster
    # (`oidc.eks.<region>.<suffix>/id/` and 32 characters).
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/" + "0" * 32
    trust = irsa_trust("aws", issuer, [f"system:serviceaccount:poolside:{a}" for a in accounts])
    size = len(json.dumps(trust, separators=(",", ":")))
    assert size > 2048
    with pytest.raises(StackConfigError) as caught:
        run_stack(
            {
                "podRole": {"serviceAccounts": accounts},
                "bedrock": {"inferenceProfiles": [{"id": f"eu.{SONNET_4}"}]},
            }
        )
    assert caught.value.problems == [
        "poolside:bedrock.inferenceProfiles[0].id: a 'eu' profile cannot be called from the "
        "stack's region us-east-1 (its ARN would not exist there); use the profile of this "
        f'region\'s geography (us., global.) (got "eu.{SONNET_4}")',
        f"poolside:podRole.serviceAccounts: 40 service accounts make the trust policy of "
        f"poolside-acme-eks-pod-role {size:,} characters; IAM allows 2,048 per trust policy: "
        "list fewer, or match several with a `*` pattern",
    ]


def test_service_accounts_are_created_annotated_when_asked() -> None:
    recording = run_stack(
        {
            "cluster": {**CLUSTER, "createServiceAccounts": True},
            # a name in podRole.namespace, a `namespace:name`, and a pattern (not created)
            "podRole": {"serviceAccounts": ["api", "jobs:runner", "job-*"]},
            "inference": {"namespace": "models", "serviceAccount": "serving"},
        }
    )
    accounts = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["metadata"][
            "annotations"
        ]
        for r in recording.by_type("kubernetes:core/v1:ServiceAccount")
    }
    roles = f"arn:aws:iam::{ACCOUNT_ID}:role/"
    assert accounts == {
        ("poolside", "api"): {"eks.amazonaws.com/role-arn": f"{roles}poolside-acme-eks-pod-role"},
        ("jobs", "runner"): {"eks.amazonaws.com/role-arn": f"{roles}poolside-acme-eks-pod-role"},
        ("models", "serving"): {
            "eks.amazonaws.com/role-arn": f"{roles}poolside-acme-eks-inference-role"
        },
        ("kube-system", "aws-load-balancer-controller"): {
            "eks.amazonaws.com/role-arn": f"{roles}poolside-acme-aws-load-balancer-controller"
        },
    }
    # every namespace of those accounts but Kubernetes' own
    namespaces = recording.by_type("kubernetes:core/v1:Namespace")
    assert sorted(n.inputs["metadata"]["name"] for n in namespaces) == [
        "jobs",
        "models",
        "poolside",
    ]
    [provider] = recording.by_type("pulumi:providers:kubernetes")
    assert all(
        r.provider.startswith(provider.urn)
        for r in recording.by_type("kubernetes:core/v1:ServiceAccount")
    )
    assert run_stack().by_type("kubernetes:core/v1:ServiceAccount") == []


OTHER_VPC_ID = "vpc-0fedcba9876543210"
LBC_ROLE = "poolside-acme-aws-load-balancer-controller"


@pytest.mark.parametrize("create_service_accounts", [True, False])
def test_load_balancer_controller_helm_values_of_a_created_cluster(
    create_service_accounts: bool,
) -> None:
    recording = run_stack(
        {
            "cluster": {
                **CLUSTER,
                "vpcId": OTHER_VPC_ID,
                "createServiceAccounts": create_service_accounts,
            },
            "loadBalancerController": {"serviceAccount": "lbc"},
        },
        partition="aws-us-gov",
    )
    assert recording.stack_outputs["loadBalancerControllerHelmValues"] == {
        "clusterName": "poolside-acme",
        "region": "us-gov-west-1",
        "vpcId": OTHER_VPC_ID,
        "serviceAccount": {
            # The chart creates the service account unless the stack does.
            "create": not create_service_accounts,
            "name": "lbc",
            "annotations": {
                "eks.amazonaws.com/role-arn": f"arn:aws-us-gov:iam::{ACCOUNT_ID}:role/{LBC_ROLE}"
            },
        },
    }
    assert recording.stack_outputs["vpcId"] == OTHER_VPC_ID
    created = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
        for r in recording.by_type("kubernetes:core/v1:ServiceAccount")
    }
    assert (("kube-system", "lbc") in created) is create_service_accounts


@pytest.mark.parametrize("create_service_accounts", [True, False])
def test_load_balancer_controller_helm_values_of_an_existing_cluster(
    create_service_accounts: bool,
) -> None:
    # The VPC is the one `eks.get_cluster` reports for the customer's cluster.
    overrides = existing_cluster(
        vpcConfig={"clusterSecurityGroupId": "sg-0aaaabbbbccccdddd", "vpcId": OTHER_VPC_ID}
    )
    recording = run_stack(
        {
            **EXISTING,
            "cluster": {
                "existingClusterName": "customer-eks",
                "createServiceAccounts": create_service_accounts,
            },
        },
        cluster_overrides=overrides,
    )
    assert recording.stack_outputs["loadBalancerControllerHelmValues"] == {
        "clusterName": "customer-eks",
        "region": "us-east-1",
        "vpcId": OTHER_VPC_ID,
        "serviceAccount": {
            "create": not create_service_accounts,
            "name": "aws-load-balancer-controller",
            "annotations": {
                "eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{LBC_ROLE}"
            },
        },
    }
    assert recording.stack_outputs["vpcId"] == OTHER_VPC_ID
    assert "vpcCniRoleArn" not in recording.stack_outputs
    [parameter] = [
        p
        for p in recording.by_type("aws:ssm/parameter:Parameter")
        if p.inputs["name"] == "/poolside/deployment/acme/vpc-id"
    ]
    assert parameter.inputs["insecureValue"] == OTHER_VPC_ID


def test_parameters_are_exactly_the_deployments_facts_under_its_path() -> None:
    recording = run_stack(
        {"deploymentName": "globex", "cluster": {**CLUSTER, "vpcId": OTHER_VPC_ID}}
    )
    path = "/poolside/deployment/globex/"
    assert recording.stack_outputs["parameterPath"] == path
    values = {
        p.inputs["name"]: p.inputs["insecureValue"]
        for p in recording.by_type("aws:ssm/parameter:Parameter")
    }
    roles = f"arn:aws:iam::{ACCOUNT_ID}:role/poolside-globex-"
    assert set(values) == parameter_names("globex")
    assert values[f"{path}region"] == "us-east-1"
    assert values[f"{path}vpc-id"] == OTHER_VPC_ID
    assert values[f"{path}cluster-name"] == "poolside-globex"
    assert values[f"{path}pod-role-arn"] == f"{roles}eks-pod-role"
    assert values[f"{path}customization-role-arn"] == f"{roles}bedrock-customization-role"
    assert values[f"{path}load-balancer-controller-role-arn"] == (
        f"{roles}aws-load-balancer-controller"
    )
    assert values[f"{path}bucket-name"] == f"poolside-globex-{ACCOUNT_ID}"
    assert values[f"{path}models-bucket-name"] == f"poolside-globex-models-{ACCOUNT_ID}"
    assert values[f"{path}inference-role-arn"] == f"{roles}eks-inference-role"
    off = run_stack(
        {
            "bedrock": {"enabled": False},
            "loadBalancerController": {"enabled": False},
            "inference": {"enabled": False},
        }
    )
    assert {p.inputs["name"] for p in off.by_type("aws:ssm/parameter:Parameter")} == (
        parameter_names("acme", bedrock=False, load_balancer_controller=False, inference=False)
    )


def test_the_bastion_boots_the_latest_amazon_linux_2023_and_keeps_it() -> None:
    run = record_stack()
    assert [args for token, args in run.calls if token == GET_PARAMETER] == [
        {"name": AL2023_PARAMETER}
    ]
    instance = run.recording.one("aws:ec2/instance:Instance", "bastion-instance")
    assert re.fullmatch(r"ami-[0-9a-f]{17}", instance.inputs["ami"])
    # The looked-up AMI is kept after creation: a new release does not replace the bastion.
    assert instance.ignore_changes == ["ami"]
    assert instance.replace_on_changes == []
    assert instance.delete_before_replace is False


def kubeconfig_of(recording: Recording) -> dict[str, Any]:
    """The `kubeconfig` stack output, which must be a secret, parsed."""
    parsed: dict[str, Any] = json.loads(secret_value(recording.stack_outputs["kubeconfig"]))
    return parsed


@pytest.mark.parametrize("create_service_accounts", [False, True])
def test_the_kubeconfig_of_a_created_cluster_is_secret(create_service_accounts: bool) -> None:
    recording = run_stack(
        {"cluster": {**CLUSTER, "createServiceAccounts": create_service_accounts}}
    )
    # what pulumi-eks returns for the cluster, marked secret on its way to the output
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    assert kubeconfig_of(recording) == json.loads(eks.outputs["kubeconfigJson"])
    assert kubeconfig_of(recording)["clusters"][0]["name"] == "poolside-acme"
    providers = recording.by_type("pulumi:providers:kubernetes")
    assert len(providers) == int(create_service_accounts)
    for provider in providers:  # the service accounts' provider holds it, secret too
        assert secret_value(provider.inputs["kubeconfig"]) == eks.outputs["kubeconfigJson"]


@pytest.mark.parametrize("create_service_accounts", [False, True])
def test_the_kubeconfig_of_an_existing_cluster_is_secret(create_service_accounts: bool) -> None:
    recording = run_stack(
        {
            **EXISTING,
            "cluster": {
                "existingClusterName": "customer-eks",
                "createServiceAccounts": create_service_accounts,
            },
        },
        cluster_overrides=existing_cluster(),
    )
    kubeconfig = kubeconfig_of(recording)
    assert kubeconfig["current-context"] == "customer-eks"
    [cluster] = kubeconfig["clusters"]
    assert cluster["cluster"]["server"] == recording.stack_outputs["clusterEndpoint"]
    [user] = kubeconfig["users"]
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "customer-eks",
        "--region",
        "us-east-1",
    ]
    providers = recording.by_type("pulumi:providers:kubernetes")
    assert len(providers) == int(create_service_accounts)
    for provider in providers:
        assert json.loads(secret_value(provider.inputs["kubeconfig"])) == kubeconfig
