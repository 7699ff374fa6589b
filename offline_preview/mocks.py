"""Mock provider answers with realistic, deterministic ids and ARNs for every type the program uses.

Values follow the formats AWS returns (ARNs in the stack's partition, region and account), so a
preview reads like the real plan and tests assert on real-looking ARNs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from aws_environment import AwsEnvironment

MockState = tuple[str, dict[str, Any]]

# How the engine marks a resource reference on the wire (pulumi.runtime.rpc's signature keys).
RESOURCE_REFERENCE_KEY = "4dabf18193072939515e22adb298388d"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


# What the mocks report as an existing cluster's Kubernetes version.
EXISTING_CLUSTER_VERSION = "1.33"

# What `eks.get_addon_version(most_recent=True)` answers per add-on: a realistic build, the same
# for every Kubernetes version, except kube-proxy's, which EKS builds per minor version.
ADDON_VERSIONS = {
    "vpc-cni": "v1.20.4-eksbuild.1",
    "coredns": "v1.12.4-eksbuild.1",
    "aws-ebs-csi-driver": "v1.51.1-eksbuild.1",
    "metrics-server": "v0.8.0-eksbuild.2",
    "snapshot-controller": "v8.3.0-eksbuild.1",
}


def addon_version(addon_name: str, kubernetes_version: str) -> str:
    """The newest version of an EKS add-on for a Kubernetes version, as the mocks report it."""
    if addon_name == "kube-proxy":
        return f"v{kubernetes_version}.3-eksbuild.2"
    try:
        return ADDON_VERSIONS[addon_name]
    except KeyError:
        raise NotImplementedError(f"the offline preview knows no add-on {addon_name!r}") from None


class PoolsideMocks(pulumi.runtime.Mocks):
    """Answers the resource registrations and invokes of the Poolside program."""

    def __init__(
        self,
        env: AwsEnvironment,
        cluster_overrides: dict[str, dict[str, Any]] | None = None,
        *,
        absent: Collection[str] = (),
        lookup_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.env = env
        # What `eks.get_cluster` reports differently for a named existing cluster (tests).
        self.cluster_overrides = cluster_overrides or {}
        # Existing keys (by ARN) and buckets (by name) that `kms.get_key` and `s3.get_bucket`
        # report as missing, as AWS does: the invoke fails. Every other one exists, in the
        # stack's region, enabled, as `lookup_overrides` (by ARN or name) may say otherwise.
        self.absent = frozenset(absent)
        self.lookup_overrides = {
            name: dict(state) for name, state in (lookup_overrides or {}).items()
        }
        self.calls: list[pulumi.runtime.MockCallArgs] = []
        self.monitor: MockMonitor | None = None
        self._resources: dict[str, Callable[[pulumi.runtime.MockResourceArgs], MockState]] = {
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/alias:Alias": self._kms_alias,
            "aws:s3/bucket:Bucket": self._s3_bucket,
            "aws:ecr/repository:Repository": self._ecr_repository,
            "aws:iam/role:Role": self._iam_role,
            "aws:iam/policy:Policy": self._iam_policy,
            "aws:iam/instanceProfile:InstanceProfile": self._iam_instance_profile,
            # the bastion (components/bastion.py) and the deployment's parameters
            "aws:ec2/instance:Instance": self._ec2_instance,
            "aws:ec2/securityGroup:SecurityGroup": self._security_group,
            "aws:dynamodb/table:Table": self._dynamodb_table,
            "aws:ssm/parameter:Parameter": self._ssm_parameter,
            "aws:eks/accessEntry:AccessEntry": self._eks_access_entry,
            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
                self._eks_access_policy_association
            ),
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider": self._oidc_provider,
            "eks:index:Cluster": self._eks_cluster,
            # the node groups' launch templates and the cluster's add-ons
            "aws:ec2/launchTemplate:LaunchTemplate": self._launch_template,
            "aws:eks/addon:Addon": self._eks_addon,
        }

    def attach(self, monitor: MockMonitor) -> None:
        """The monitor these mocks answer for: remote components register their children in it."""
        self.monitor = monitor

    # -- helpers -----------------------------------------------------------------------------

    def resource_reference(self, type_: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
        """A resource created inside a remote component, returned as a resource reference.

        The engine returns resource-typed outputs of a remote component (`eksCluster` of
        `eks:index:Cluster`) as references, which the SDK rehydrates by asking the monitor for
        the resource's state: so the resource is registered in the monitor, as a child of the
        component, and recorded as a step of the plan, as the real preview shows it.
        """
        if self.monitor is None:
            raise RuntimeError("the mocks are not attached to a monitor")
        parent = str(getattr(self.monitor, "registering_urn", ""))
        urn = self.monitor.make_urn(parent, type_, name)
        resource_id = str(state.get("id") or name)
        self.monitor.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        record_child = getattr(self.monitor, "record_child", None)
        if callable(record_child):
            record_child(urn, type_, name, state)
        return {RESOURCE_REFERENCE_KEY: RESOURCE_REFERENCE_SIG, "urn": urn, "id": resource_id}

    def oidc_issuer(self, cluster_name: str) -> str:
        """The issuer URL EKS gives a cluster: `https://oidc.eks.<region>.<suffix>/id/<32 hex>`."""
        cluster_id = _digest(self.env.account_id, cluster_name, length=32).upper()
        return f"https://oidc.eks.{self.env.region}.{self.env.dns_suffix}/id/{cluster_id}"

    def cluster_state(
        self, cluster_name: str, vpc_id: str | None = None, version: str | None = None
    ) -> dict[str, Any]:
        """What `aws:eks/cluster:Cluster` (and `eks.get_cluster`) report for an active cluster.

        `vpc_id`, `version`: the created cluster's; an existing one's VPC is made up from its
        name, and it runs EKS's current default version."""
        endpoint_id = _digest(self.env.account_id, cluster_name, "endpoint", length=32).upper()
        return {
            "id": cluster_name,
            "name": cluster_name,
            "arn": self.env.regional_arn("eks", f"cluster/{cluster_name}"),
            "endpoint": (f"https://{endpoint_id}.gr7.{self.env.region}.eks.{self.env.dns_suffix}"),
            "identities": [{"oidcs": [{"issuer": self.oidc_issuer(cluster_name)}]}],
            "certificateAuthorities": [{"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"}],
            "status": "ACTIVE",
            "version": version or EXISTING_CLUSTER_VERSION,
            "vpcConfig": {
                "clusterSecurityGroupId": "sg-" + _digest(cluster_name, "eks", length=17),
                "vpcId": vpc_id or "vpc-" + _digest(self.env.account_id, cluster_name, length=17),
            },
            "accessConfigs": [
                {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
            ],
            **self.cluster_overrides.get(cluster_name, {}),
        }

    def physical_name(self, args: pulumi.runtime.MockResourceArgs, key: str = "name") -> str:
        """The name input if given, else Pulumi's auto-name: logical name plus 7 hex digits."""
        given = args.inputs.get(key)
        return str(given) if given else f"{args.name}-{_digest(args.typ, args.name, length=7)}"

    # -- resources ---------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        handler = self._resources.get(args.typ)
        if handler is not None:
            return handler(args)
        resource_id = f"{args.name}-{_digest(args.typ, args.name)}"
        return resource_id, dict(args.inputs)

    def _kms_key(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        key_id = _uuid(self.env.account_id, args.name)
        arn = self.env.regional_arn("kms", f"key/{key_id}")
        return key_id, {**args.inputs, "arn": arn, "keyId": key_id}

    def _kms_alias(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        return name, {**args.inputs, "arn": self.env.regional_arn("kms", name), "name": name}

    def _s3_bucket(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        bucket = self.physical_name(args, "bucket")
        suffix = self.env.dns_suffix
        return bucket, {
            **args.inputs,
            "bucket": bucket,
            "arn": self.env.arn("s3", bucket),
            "bucketDomainName": f"{bucket}.s3.{suffix}",
            "bucketRegionalDomainName": f"{bucket}.s3.{self.env.region}.{suffix}",
            "region": self.env.region,
        }

    def _ecr_repository(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        registry = f"{self.env.account_id}.dkr.ecr.{self.env.region}.{self.env.dns_suffix}"
        return name, {
            **args.inputs,
            "name": name,
            "arn": self.env.regional_arn("ecr", f"repository/{name}"),
            "registryId": self.env.account_id,
            "repositoryUrl": f"{registry}/{name}",
        }

    def _iam_role(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        path = args.inputs.get("path") or "/"
        return name, {
            **args.inputs,
            "name": name,
            "arn": self.env.global_arn("iam", f"role{path}{name}"),
            "uniqueId": "AROA" + _digest(args.name, length=17).upper(),
        }

    def _iam_policy(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        path = args.inputs.get("path") or "/"
        arn = self.env.global_arn("iam", f"policy{path}{name}")
        return arn, {
            **args.inputs,
            "name": name,
            "arn": arn,
            "policyId": "ANPA" + _digest(args.name, length=17).upper(),
        }

    def _oidc_provider(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        issuer = str(args.inputs["url"]).removeprefix("https://")
        arn = self.env.global_arn("iam", f"oidc-provider/{issuer}")
        return arn, {**args.inputs, "arn": arn}

    def _eks_cluster(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        """pulumi-eks's remote component: the monitor sees only `eks:index:Cluster`.

        Its `aws:eks/cluster:Cluster` is returned as a reference, so it is a step of the plan,
        named as pulumi-eks names it (`<component>-eksCluster`); the rest of what the component
        creates inside is listed in `components/eks_internals.py`."""
        name = self.physical_name(args)
        state = self.cluster_state(
            name, vpc_id=args.inputs.get("vpcId"), version=args.inputs.get("version")
        )
        kubeconfig = json.dumps(
            {"apiVersion": "v1", "kind": "Config", "clusters": [{"name": name}]}
        )
        # Without its own groups, pulumi-eks reports EKS's cluster security group for both.
        eks_group = state["vpcConfig"]["clusterSecurityGroupId"]
        own_groups = not args.inputs.get("skipDefaultSecurityGroups")
        inner = f"{args.name}-eksCluster"
        return f"{name}-component", {
            **args.inputs,
            "eksCluster": self.resource_reference("aws:eks/cluster:Cluster", inner, state),
            "kubeconfig": json.loads(kubeconfig),
            "kubeconfigJson": kubeconfig,
            "oidcIssuer": state["identities"][0]["oidcs"][0]["issuer"].removeprefix("https://"),
            "clusterSecurityGroupId": (
                "sg-" + _digest(name, "cluster", length=17) if own_groups else eks_group
            ),
            "nodeSecurityGroupId": (
                "sg-" + _digest(name, "node", length=17) if own_groups else eks_group
            ),
        }

    def _iam_instance_profile(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        path = args.inputs.get("path") or "/"
        return name, {
            **args.inputs,
            "name": name,
            "arn": self.env.global_arn("iam", f"instance-profile{path}{name}"),
            "uniqueId": "AIPA" + _digest(args.name, length=17).upper(),
        }

    # -- the bastion and the deployment's parameters -------------------------------------------

    def _ec2_instance(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        instance_id = "i-" + _digest(self.env.account_id, args.name, length=17)
        octets = [int(_digest(args.name, part, length=2), 16) for part in ("c", "d")]
        private_ip = f"10.0.{octets[0]}.{octets[1] or 10}"
        return instance_id, {
            **args.inputs,
            "arn": self.env.regional_arn("ec2", f"instance/{instance_id}"),
            "instanceState": "running",
            "privateIp": private_ip,
            "primaryNetworkInterfaceId": "eni-" + _digest(instance_id, "eni", length=17),
        }

    def _security_group(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        group_id = "sg-" + _digest(self.env.account_id, args.name, length=17)
        return group_id, {
            **args.inputs,
            "name": self.physical_name(args),
            "arn": self.env.regional_arn("ec2", f"security-group/{group_id}"),
            "ownerId": self.env.account_id,
        }

    def _launch_template(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        template_id = "lt-" + _digest(self.env.account_id, args.name, length=17)
        return template_id, {
            **args.inputs,
            "name": self.physical_name(args),
            "arn": self.env.regional_arn("ec2", f"launch-template/{template_id}"),
            "latestVersion": 1,
            "defaultVersion": 1,
        }

    def _eks_addon(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        cluster, addon = str(args.inputs["clusterName"]), str(args.inputs["addonName"])
        addon_uuid = _uuid(self.env.account_id, cluster, addon)
        return f"{cluster}:{addon}", {
            **args.inputs,
            "arn": self.env.regional_arn("eks", f"addon/{cluster}/{addon}/{addon_uuid}"),
        }

    def _dynamodb_table(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        return name, {
            **args.inputs,
            "name": name,
            "arn": self.env.regional_arn("dynamodb", f"table/{name}"),
        }

    def _ssm_parameter(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        name = self.physical_name(args)
        arn = self.env.regional_arn("ssm", f"parameter/{name.lstrip('/')}")
        return name, {**args.inputs, "name": name, "arn": arn, "version": 1}

    def _eks_access_entry(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        cluster, principal = str(args.inputs["clusterName"]), str(args.inputs["principalArn"])
        role = principal.rsplit("/", 1)[-1]
        entry = f"{cluster}/role/{self.env.account_id}/{role}/{_uuid(cluster, principal)}"
        return f"{cluster}:{principal}", {
            **args.inputs,
            "accessEntryArn": self.env.regional_arn("eks", f"access-entry/{entry}"),
            "kubernetesGroups": [],
            "userName": principal,
        }

    def _eks_access_policy_association(self, args: pulumi.runtime.MockResourceArgs) -> MockState:
        cluster, principal = args.inputs["clusterName"], args.inputs["principalArn"]
        association = f"{cluster}#{principal}#{args.inputs['policyArn']}"
        return association, {**args.inputs, "associatedAt": "2026-01-01T00:00:00Z"}

    # -- invokes -----------------------------------------------------------------------------

    def _existing_key(self, key_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """DescribeKey of a customer managed symmetric key (by ARN), or AWS's NotFound."""
        if key_id in self.absent:
            return {}, [
                (
                    "",
                    f"reading KMS Key ({key_id}): operation error KMS: DescribeKey, https response "
                    f"error StatusCode: 400, NotFoundException: Key '{key_id}' does not exist",
                )
            ]
        *_, region, account, resource = key_id.split(":")
        uuid_ = resource.removeprefix("key/")
        return {
            "id": uuid_,
            "arn": key_id,
            "keyId": uuid_,
            "awsAccountId": account,
            "region": region,
            "creationDate": "2026-01-01T00:00:00Z",
            "description": "customer managed key",
            "enabled": True,
            "keyState": "Enabled",
            "keyUsage": "ENCRYPT_DECRYPT",
            "keySpec": "SYMMETRIC_DEFAULT",
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "keyManager": "CUSTOMER",
            "origin": "AWS_KMS",
            "multiRegion": uuid_.startswith("mrk-"),
            **self.lookup_overrides.get(key_id, {}),
        }, []

    def _existing_bucket(self, name: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """HeadBucket of a bucket in the stack's region, or S3's NotFound."""
        if name in self.absent:
            return {}, [("", f"reading S3 Bucket ({name}): couldn't find resource")]
        suffix, region = self.env.dns_suffix, self.env.region
        return {
            "id": name,
            "arn": self.env.arn("s3", name),
            "bucket": name,
            "bucketDomainName": f"{name}.s3.{suffix}",
            "bucketRegionalDomainName": f"{name}.s3.{region}.{suffix}",
            "bucketRegion": region,
            "region": region,
            **self.lookup_overrides.get(name, {}),
        }, []

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append(args)
        env = self.env
        if args.token == "aws:index/getPartition:getPartition":
            reverse = ".".join(reversed(env.dns_suffix.split(".")))
            return {
                "id": env.partition,
                "partition": env.partition,
                "dnsSuffix": env.dns_suffix,
                "reverseDnsPrefix": reverse,
            }, []
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "id": env.region,
                "name": env.region,
                "region": env.region,
                "description": env.region,
                "endpoint": f"ec2.{env.region}.{env.dns_suffix}",
            }, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": env.account_id,
                "accountId": env.account_id,
                "arn": env.global_arn("sts", "assumed-role/poolside-deployer/offline-preview"),
                "userId": "AROAOFFLINEPREVIEW:offline-preview",
            }, []
        if args.token == "aws:eks/getCluster:getCluster":
            return self.cluster_state(str(args.args["name"])), []
        if args.token == "aws:kms/getKey:getKey":
            return self._existing_key(str(args.args["keyId"]))
        if args.token == "aws:s3/getBucket:getBucket":
            return self._existing_bucket(str(args.args["bucket"]))
        if args.token == "aws:eks/getAddonVersion:getAddonVersion":
            name, kubernetes = str(args.args["addonName"]), str(args.args["kubernetesVersion"])
            return {
                "id": name,
                "addonName": name,
                "kubernetesVersion": kubernetes,
                "mostRecent": bool(args.args.get("mostRecent", False)),
                "version": addon_version(name, kubernetes),
                "region": env.region,
            }, []
        if args.token == "aws:ssm/getParameter:getParameter":
            # AWS's public AMI parameters (`/aws/service/ami-...`) hold an AMI id of the region.
            name = str(args.args["name"])
            value = "ami-" + _digest(env.region, name, length=17)
            return {
                "id": name,
                "name": name,
                "arn": env.arn("ssm", f"parameter/{name.lstrip('/')}", region=env.region),
                "type": "String",
                "value": value,
                "insecureValue": value,
                "version": 1,
                "withDecryption": True,
                "region": env.region,
            }, []
        if args.token == "aws:ec2/getSubnet:getSubnet":
            subnet_id = str(args.args["id"])
            return {
                "id": subnet_id,
                "arn": env.regional_arn("ec2", f"subnet/{subnet_id}"),
                "vpcId": "vpc-" + _digest(env.account_id, subnet_id, length=17),
                "availabilityZone": f"{env.region}a",
                "cidrBlock": "10.0.0.0/20",
                "ownerId": env.account_id,
                "mapPublicIpOnLaunch": False,
                "state": "available",
            }, []
        raise NotImplementedError(f"the offline preview has no mock for invoke {args.token}")
