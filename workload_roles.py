"""The workload-roles layer: the IRSA roles of the pods and the add-ons, and the role Bedrock
assumes for the pods' customization jobs.

`deployment.build_workload_roles` (re-exported there) is what `__main__.py` calls; the data and
cluster layers it builds on are `deployment.Data` and `deployment.Cluster`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from aws_environment import AwsEnvironment
from components.cluster_addons import (
    COREDNS,
    EBS_CSI_DRIVER,
    EBS_CSI_POLICY,
    EBS_CSI_POLICY_PATH,
    EBS_CSI_SERVICE_ACCOUNT,
    KUBE_PROXY,
    METRICS_SERVER,
    SNAPSHOT_CONTROLLER,
    VPC_CNI,
)
from components.eks_cluster import VPC_CNI_POLICY, VPC_CNI_SERVICE_ACCOUNT, EksCluster
from components.iam_role import IamRole, IamRoleArgs
from components.oidc_provider import OidcProvider
from naming import Policy, Role
from policies import eks_pod_role
from policies.aws_load_balancer_controller import load_balancer_controller_policy
from policies.bedrock_customization_role import bedrock_customization_service_policy
from policies.documents import Document
from policies.ebs_csi_driver import ebs_csi_kms_policy
from policies.inference_role import inference_models_read_policy
from policies.trust import bedrock_customization_trust, irsa_trust
from stack_config import StackConfig

if TYPE_CHECKING:  # the layers below this one; deployment.py imports this module
    from deployment import Cluster, Data

# The IRSA roles were `IrsaRole` components before every role became an `IamRole` with an IRSA
# trust: this alias keeps them (and, through them, their children) on `pulumi up`.
FORMERLY_IRSA_ROLE = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="poolside:aws:IrsaRole")])


@dataclass(frozen=True)
class ServiceAccountRole:
    """An IRSA role and the service accounts (`"<namespace>:<name>"`) its trust names."""

    role: IamRole
    service_accounts: tuple[str, ...]


@dataclass(frozen=True)
class WorkloadRoles:
    pod: ServiceAccountRole
    customization: IamRole | None
    load_balancer_controller: ServiceAccountRole | None
    vpc_cni: ServiceAccountRole | None
    """The VPC CNI's role, when the program manages the `vpc-cni` add-on."""
    ebs_csi: ServiceAccountRole | None = None
    """The EBS CSI controller's role, when the program manages the `aws-ebs-csi-driver` add-on."""
    inference: ServiceAccountRole | None = None
    """The inference pods' role on the models bucket (`inference.enabled`)."""

    @property
    def annotated(self) -> list[ServiceAccountRole]:
        """The roles of the Poolside, inference and controller service accounts (the add-ons'
        roles are annotated by EKS itself)."""
        return [r for r in (self.pod, self.inference, self.load_balancer_controller) if r]

    @property
    def addon_roles(self) -> dict[str, ServiceAccountRole]:
        """The managed add-ons' IRSA roles by EKS add-on name."""
        roles = {VPC_CNI: self.vpc_cni, EBS_CSI_DRIVER: self.ebs_csi}
        return {name: role for name, role in roles.items() if role is not None}

    @property
    def all_roles(self) -> list[IamRole]:
        irsa = [
            r.role
            for r in (self.pod, self.load_balancer_controller, self.vpc_cni, self.ebs_csi)
            if r
        ]
        customization = [self.customization] if self.customization else []
        inference = [self.inference.role] if self.inference else []
        return [*irsa[:1], *customization, *irsa[1:], *inference]

    @property
    def role_arn_by_service_account(self) -> dict[str, pulumi.Output[str]]:
        """`"<namespace>:<name>"` -> the ARN of the IRSA role that service account assumes."""
        return {
            account: irsa.role.arn for irsa in self.annotated for account in irsa.service_accounts
        }


def irsa_role(
    name: str,
    config: StackConfig,
    oidc: OidcProvider,
    *,
    service_accounts: list[str],
    role: Role,
    description: str,
    policies: dict[str, Document] | None = None,
    managed_policy_arns: list[str] | None = None,
) -> ServiceAccountRole:
    """A role that the given service accounts of this cluster assume (IRSA)."""
    iam_role = IamRole(
        name,
        IamRoleArgs(
            role_name=config.names.role(role),
            trust_policy=irsa_trust(oidc.arn, oidc.issuer, service_accounts),
            description=description,
            policy_name_prefix=config.prefix,
            policies=policies or {},
            managed_policy_arns=managed_policy_arns or [],
            tags=config.resource_tags,
        ),
        opts=FORMERLY_IRSA_ROLE,
    )
    return ServiceAccountRole(iam_role, tuple(service_accounts))


def pod_policies(
    config: StackConfig, env: AwsEnvironment, data: Data, customization: IamRole | None
) -> dict[str, Document]:
    """The spec's EKS Pod Role policies, by purpose (Bedrock's only with `bedrock.enabled`)."""
    policies = {Policy.POD_S3_ACCESS.value: eks_pod_role.s3_access_policy(data.bucket)}
    if eks_pod_role.marketplace_offered(env.partition):
        policies[Policy.POD_MARKETPLACE_METERING] = eks_pod_role.aws_marketplace_metering_policy()
    policies[Policy.POD_KMS_ACCESS] = eks_pod_role.kms_access_policy(data.key, data.bucket)
    if customization is None:
        return policies
    bedrock = config.bedrock
    policies[Policy.POD_BEDROCK_READ_ONLY] = eks_pod_role.bedrock_read_only_policy(env)
    policies[Policy.POD_BEDROCK_MODEL_INVOCATION] = eks_pod_role.bedrock_model_invocation_policy(
        env,
        models=bedrock.models,
        inference_profiles=[p.id for p in bedrock.inference_profiles],
    )
    policies[Policy.POD_BEDROCK_CUSTOMIZATION_JOB] = eks_pod_role.bedrock_customization_job_policy(
        env, customization.arn, base_models=bedrock.customization_base_models
    )
    return policies


def build_workload_roles(
    config: StackConfig, env: AwsEnvironment, data: Data, cluster: Cluster
) -> WorkloadRoles:
    """The spec's EKS Pod Role, the role it passes to Bedrock, the controller's role, and the
    roles of the managed `vpc-cni` and `aws-ebs-csi-driver` add-ons."""
    oidc = cluster.oidc
    # What bedrock.amazonaws.com may do for a job the pod starts. It exists before the pod role
    # because the pod's PassRole names it.
    customization = None
    if config.bedrock.enabled:
        customization = IamRole(
            "bedrock-customization",
            IamRoleArgs(
                role_name=config.names.role(Role.BEDROCK_CUSTOMIZATION),
                trust_policy=bedrock_customization_trust(env),
                description="Assumed by Amazon Bedrock for this deployment's customization jobs",
                policy_name_prefix=config.prefix,
                policies={
                    Policy.BEDROCK_CUSTOMIZATION_DATA_ACCESS: bedrock_customization_service_policy(
                        data.bucket
                    )
                },
                tags=config.resource_tags,
            ),
        )
    pod = irsa_role(
        "pod",
        config,
        oidc,
        service_accounts=config.pod_role.subjects,
        role=Role.POD,
        description="Poolside application pods (IRSA)",
        policies=pod_policies(config, env, data, customization),
    )
    controller = None
    lbc = config.load_balancer_controller
    if lbc.enabled:
        controller = irsa_role(
            "aws-load-balancer-controller",
            config,
            oidc,
            service_accounts=[f"{lbc.namespace}:{lbc.service_account}"],
            role=Role.LOAD_BALANCER_CONTROLLER,
            description="AWS Load Balancer Controller (IRSA)",
            policies={
                Policy.LOAD_BALANCER_CONTROLLER: load_balancer_controller_policy(env.partition)
            },
        )
    vpc_cni, ebs_csi = addon_roles(config, env, data, cluster)
    return WorkloadRoles(
        pod=pod,
        customization=customization,
        load_balancer_controller=controller,
        vpc_cni=vpc_cni,
        ebs_csi=ebs_csi,
        inference=inference_role(config, data, oidc),
    )


def inference_role(
    config: StackConfig, data: Data, oidc: OidcProvider
) -> ServiceAccountRole | None:
    """The inference pods' role: read the model checkpoints, nothing else."""
    if data.models is None:
        return None
    inference = config.inference
    return irsa_role(
        "inference",
        config,
        oidc,
        service_accounts=[f"{inference.namespace}:{inference.service_account}"],
        role=Role.INFERENCE,
        description="Poolside inference pods: read the model checkpoints (IRSA)",
        policies={Policy.INFERENCE_MODELS_READ: inference_models_read_policy(data.models)},
    )


def managed_addons(config: StackConfig, cluster: EksCluster) -> dict[str, str | None]:
    """EKS add-on name -> pinned version (None: resolved), for each add-on the program manages:
    the enabled ones of a created cluster; of an existing one, only with
    `addons.manageOnExistingCluster`."""
    if not cluster.created and not config.addons.manage_on_existing_cluster:
        return {}
    return enabled_addons(config)


def enabled_addons(config: StackConfig) -> dict[str, str | None]:
    """EKS add-on name -> pinned version (None: resolved), for each add-on the config enables."""
    addons = config.addons
    settings = {
        VPC_CNI: addons.vpc_cni,
        KUBE_PROXY: addons.kube_proxy,
        COREDNS: addons.coredns,
        EBS_CSI_DRIVER: addons.ebs_csi_driver,
        METRICS_SERVER: addons.metrics_server,
        SNAPSHOT_CONTROLLER: addons.snapshot_controller,
    }
    return {name: s.version for name, s in settings.items() if s.enabled}


def addon_roles(
    config: StackConfig, env: AwsEnvironment, data: Data, cluster: Cluster
) -> tuple[ServiceAccountRole | None, ServiceAccountRole | None]:
    """The IRSA roles of the `vpc-cni` and `aws-ebs-csi-driver` add-ons, for those managed."""
    managed = managed_addons(config, cluster.cluster)
    vpc_cni = ebs_csi = None
    if VPC_CNI in managed:
        vpc_cni = irsa_role(
            "vpc-cni",
            config,
            cluster.oidc,
            service_accounts=[VPC_CNI_SERVICE_ACCOUNT],
            role=Role.VPC_CNI,
            description="Amazon VPC CNI (aws-node) of the Poolside cluster (IRSA)",
            managed_policy_arns=[env.aws_managed_policy_arn(VPC_CNI_POLICY)],
        )
    if EBS_CSI_DRIVER in managed:
        ebs_csi = irsa_role(
            "ebs-csi",
            config,
            cluster.oidc,
            service_accounts=[EBS_CSI_SERVICE_ACCOUNT],
            role=Role.EBS_CSI,
            description="Amazon EBS CSI driver controller of the Poolside cluster (IRSA)",
            policies={Policy.EBS_CSI_KMS: ebs_csi_kms_policy(data.key.arn)},
            managed_policy_arns=[
                env.aws_managed_policy_arn(EBS_CSI_POLICY, path=EBS_CSI_POLICY_PATH)
            ],
        )
    return vpc_cni, ebs_csi
