"""The whole program under mocks: what it registers, how it is wired, what it exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from offline_preview.mocks import PoolsideMocks
from stack_config import StackConfigError
from tests.harness import ACCOUNT_ID, CLUSTER, PARTITIONS, REGIONS, environment, run_stack

ROOT = Path(__file__).resolve().parent.parent


COMPONENTS = {
    "kms": "poolside:aws:KmsKey",
    "data": "poolside:aws:Bucket",
    "ecr": "poolside:aws:EcrRepositories",
    "cluster": "poolside:aws:EksCluster",
    "oidc": "poolside:aws:OidcProvider",
    "bedrock-customization": "poolside:aws:IamRole",
    "pod": "poolside:aws:IrsaRole",
    "aws-load-balancer-controller": "poolside:aws:IrsaRole",
    "parameters": "poolside:aws:DeploymentParameters",
    "bastion": "poolside:aws:Bastion",
}


def test_program_builds_every_component_under_the_stack() -> None:
    recording = run_stack({"ecr": {"repositories": ["api", "web"]}})
    stack = recording.one("pulumi:pulumi:Stack", "poolside-test")
    components = {r.name: r.type for r in recording.resources if r.parent == stack.urn}
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
}


def test_data_is_retained_on_destroy_by_default_and_per_section_on_request() -> None:
    data_types = ("aws:kms/", "aws:s3/", "aws:ecr/")
    default = run_stack({"ecr": {"repositories": ["api"]}})
    data = [r for r in default.resources if r.type.startswith(data_types)]
    assert len(data) == 11
    assert all(r.retain_on_delete for r in data)

    released = run_stack(
        {
            "ecr": {"repositories": ["api"], "retainOnDelete": False},
            "bucket": {"retainOnDelete": False},
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
    bedrock_outputs = (
        {}  # Bedrock is not offered in China: the harness switches it off there
        if partition == "aws-cn"
        else {"bedrockCustomizationRoleArn": f"{roles}poolside-acme-bedrock-customization-role"}
    )
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
        "ecrRepositoryUrls": {"api": f"{ACCOUNT_ID}.dkr.ecr.{region}.{suffix}/poolside-acme/api"},
        "clusterName": "poolside-acme",
        "clusterEndpoint": outputs["clusterEndpoint"],
        "kubeconfig": outputs["kubeconfig"],
        "oidcProviderArn": f"arn:{partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        "oidcIssuerUrl": f"https://{issuer}",
        "podRoleArn": f"{roles}poolside-acme-eks-pod-role",
        **bedrock_outputs,
        "loadBalancerControllerRoleArn": f"{roles}poolside-acme-aws-load-balancer-controller",
        "serviceAccountAnnotations": {
            "poolside:poolside": f"eks.amazonaws.com/role-arn: {roles}poolside-acme-eks-pod-role",
            "kube-system:aws-load-balancer-controller": (
                f"eks.amazonaws.com/role-arn: {roles}poolside-acme-aws-load-balancer-controller"
            ),
        },
        "parameterPath": "/poolside/deployment/acme/",
        "bastionRoleArn": f"{roles}poolside-acme-bastion-role",
        "bastionInstanceProfileName": "poolside-acme-bastion-instance-profile",
        "bastionInstanceProfileArn": (
            f"arn:{partition}:iam::{ACCOUNT_ID}:instance-profile/poolside-acme-bastion-instance-profile"
        ),
        "bastionInstanceId": instance_id,
        "bastionStartSessionCommand": f"aws ssm start-session --target {instance_id} --region {region}",
        "bastionSecurityGroupId": outputs["bastionSecurityGroupId"],
        "lockTableName": "poolside-acme-terraform-locks",
        "permissionsBoundaryArn": f"arn:{partition}:iam::{ACCOUNT_ID}:policy/poolside-acme-permissions-boundary",
    }
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance_id)
    assert re.fullmatch(r"sg-[0-9a-f]{17}", outputs["bastionSecurityGroupId"])
    assert outputs["clusterEndpoint"].startswith("https://")
    assert outputs["clusterEndpoint"].endswith(f".{region}.eks.{suffix}")
    assert outputs["kubeconfig"] == {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": outputs["kubeconfig"]["value"],
    }, "the kubeconfig must be a secret output"
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
    from offline_preview.engine import Recording, RecordingMonitor

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
    from offline_preview.engine import run_program
    from offline_preview.mocks import PoolsideMocks
    from tests.harness import CLUSTER, engine_config, environment

    mocks = PoolsideMocks(environment("aws"))
    config = engine_config({"deploymentName": "acme", "cluster": CLUSTER}, "us-east-1")
    run_program(config, mocks, stack="test")
    assert sorted(call.token for call in mocks.calls) == [
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
        "aws:index/getRegion:getRegion",
        "aws:ssm/getParameter:getParameter",  # the bastion's Amazon Linux 2023 AMI
    ]


def test_program_code_never_writes_a_literal_partition() -> None:
    files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    program = [f for f in files if not f.startswith("tests/")] or [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if "tests" not in p.parts
    ]
    offenders = [
        f"{name}:{number}"
        for name in program
        if (ROOT / name).exists()
        for number, line in enumerate((ROOT / name).read_text().splitlines(), 1)
        if re.search(r"arn:aws(-us-gov|-cn)?:", line)
    ]
    assert offenders == []


def test_program_never_reads_the_shared_folder() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "venv" not in p.parts and "tests" not in p.parts and "../shared" in p.read_text()
    ]
    assert offenders == []


def test_pod_role_has_the_six_policies_of_the_spec() -> None:
    recording = run_stack()
    pod = recording.one("poolside:aws:IrsaRole", "pod")
    names = sorted(
        p.inputs["name"] for p in recording.by_type("aws:iam/policy:Policy") if p.parent == pod.urn
    )
    assert names == [
        "poolside-acme-pod-bedrock-customization-job",
        "poolside-acme-pod-bedrock-model-invocation",
        "poolside-acme-pod-bedrock-read-only",
        "poolside-acme-pod-kms-access",
        "poolside-acme-pod-marketplace-metering",
        "poolside-acme-pod-s3-access",
    ]
    attached = sorted(
        a.inputs["policyArn"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == "poolside-acme-eks-pod-role"
    )
    assert attached == [f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}" for name in names]


def test_pod_policies_are_wired_to_the_stacks_bucket_key_and_customization_role() -> None:
    recording = run_stack()
    policies = {
        p.inputs["name"]: json.loads(p.inputs["policy"])
        for p in recording.by_type("aws:iam/policy:Policy")
    }
    bucket_arn = recording.one("aws:s3/bucket:Bucket", "data-bucket").outputs["arn"]
    key_arn = recording.one("aws:kms/key:Key", "kms-key").outputs["arn"]
    role_arn = recording.one("aws:iam/role:Role", "bedrock-customization-role").outputs["arn"]
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
        "poolside-acme-bastion-role",
    }
    assert "bedrockCustomizationRoleArn" not in recording.stack_outputs
    boundary = json.loads(
        recording.one("aws:iam/policy:Policy", "bastion-permissions-boundary").inputs["policy"]
    )
    assert not any(a.startswith("bedrock:") for s in boundary["Statement"] for a in s["Action"])


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


def existing_cluster_mocks(**overrides: object) -> PoolsideMocks:
    """Mocks whose `eks.get_cluster("customer-eks")` reports the given fields."""
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXISTING"
    state = {"identities": [{"oidcs": [{"issuer": issuer}]}], **overrides}
    return PoolsideMocks(environment("aws"), cluster_overrides={"customer-eks": state})


EXISTING = {
    "cluster": {"existingClusterName": "customer-eks"},
    "bastion": {"subnetId": "subnet-0123456789abcdef0"},
}
EXISTING_PROVIDER = (
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXISTING"
)


def test_existing_cluster_and_provider_create_no_cluster_and_no_provider() -> None:
    arn = EXISTING_PROVIDER
    recording = run_stack(
        {
            "cluster": {"existingClusterName": "customer-eks", "existingOidcProviderArn": arn},
            "bastion": {"subnetId": "subnet-0123456789abcdef0"},
        },
        mocks=existing_cluster_mocks(),
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
            mocks=existing_cluster_mocks(),
        )
    assert caught.value.problems == [message]


def test_existing_cluster_in_config_map_mode_cannot_take_the_bastions_access_entry() -> None:
    config_map_only = existing_cluster_mocks(
        accessConfigs=[
            {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        ]
    )
    with pytest.raises(StackConfigError) as caught:
        run_stack(EXISTING, mocks=config_map_only)
    [line] = caught.value.problems
    assert line.startswith(
        "poolside:cluster.existingClusterName: cluster 'customer-eks' authenticates with the aws-auth ConfigMap only"
    )
    config_map_only = existing_cluster_mocks(
        accessConfigs=[
            {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        ]
    )
    without_bastion = run_stack({**EXISTING, "bastion": {"enabled": False}}, mocks=config_map_only)
    assert without_bastion.by_type("aws:eks/accessEntry:AccessEntry") == []


def test_bedrock_is_refused_in_china_and_profiles_stay_in_the_partition() -> None:
    with pytest.raises(StackConfigError) as caught:
        run_stack({"bedrock": {"enabled": True}}, partition="aws-cn")
    assert caught.value.problems == [
        "poolside:bedrock.enabled: Amazon Bedrock is not offered in the aws-cn partition: set it to false"
    ]
    with pytest.raises(StackConfigError) as caught:
        run_stack(
            {
                "bedrock": {
                    "inferenceProfiles": [
                        {"id": "us.anthropic.x-v1:0", "regions": ["us-east-1", "us-gov-west-1"]}
                    ]
                }
            }
        )
    assert caught.value.problems == [
        'poolside:bedrock.inferenceProfiles[0].regions[1]: must be a region of the stack\'s partition aws (got "us-gov-west-1")'
    ]


def test_service_accounts_are_created_annotated_when_asked() -> None:
    recording = run_stack(
        {
            "cluster": {**CLUSTER, "createServiceAccounts": True},
            "podRole": {"serviceAccounts": ["api", "job-*"]},
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
        ("kube-system", "aws-load-balancer-controller"): {
            "eks.amazonaws.com/role-arn": f"{roles}poolside-acme-aws-load-balancer-controller"
        },
    }
    [namespace] = recording.by_type("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"] == {"name": "poolside"}
    [provider] = recording.by_type("pulumi:providers:kubernetes")
    assert all(
        r.provider.startswith(provider.urn)
        for r in recording.by_type("kubernetes:core/v1:ServiceAccount")
    )
    assert run_stack().by_type("kubernetes:core/v1:ServiceAccount") == []
