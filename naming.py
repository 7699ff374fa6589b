"""Every name the program derives, in one place: roles, policies, tags, paths and the rest.

The config model's limits (how long a prefix may be), the components' physical names, the
policies' scoping, the tests and the documentation all derive from here, so a suffix cannot
drift between the five places that once spelled it out.

`Names(prefix, deployment_name)` gives a deployment's names; the constants below are what does
not depend on the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The tag the program puts on every taggable resource (value: deploymentName). Users may not set
# it; the bastion's Cognito permissions are fenced by it.
DEPLOYMENT_TAG = "poolside:deployment"

# SSM Parameter Store: every deployment's facts live under `<PARAMETER_ROOT>/<deploymentName>`.
PARAMETER_ROOT = "/poolside/deployment"

# IAM caps role names at 64 characters, EKS node group names at 63.
IAM_ROLE_NAME_MAX = 64
EKS_NODE_GROUP_NAME_MAX = 63


class Role(StrEnum):
    """The roles of a deployment; each value is the suffix after `<deploymentPrefix>-`."""

    CLUSTER = "eks-cluster-role"
    NODE = "eks-node-role"
    POD = "eks-pod-role"
    INFERENCE = "eks-inference-role"
    VPC_CNI = "eks-vpc-cni-role"
    EBS_CSI = "eks-ebs-csi-role"
    BEDROCK_CUSTOMIZATION = "bedrock-customization-role"
    LOAD_BALANCER_CONTROLLER = "aws-load-balancer-controller"
    BASTION = "bastion-role"


class Policy(StrEnum):
    """Customer-managed policies by purpose; each is named `<deploymentPrefix>-<purpose>`.

    The spec's EKS Pod Role policies, the customization role's, the controller's, the EBS CSI
    driver's use of the deployment key, and the bastion's
    (`<deploymentPrefix>-bastion-<purpose>`: see `BASTION_POLICIES`)."""

    POD_S3_ACCESS = "pod-s3-access"
    POD_MARKETPLACE_METERING = "pod-marketplace-metering"
    POD_KMS_ACCESS = "pod-kms-access"
    POD_BEDROCK_READ_ONLY = "pod-bedrock-read-only"
    POD_BEDROCK_MODEL_INVOCATION = "pod-bedrock-model-invocation"
    POD_BEDROCK_CUSTOMIZATION_JOB = "pod-bedrock-customization-job"
    BEDROCK_CUSTOMIZATION_DATA_ACCESS = "bedrock-customization-data-access"
    LOAD_BALANCER_CONTROLLER = "aws-load-balancer-controller"
    INFERENCE_MODELS_READ = "inference-models-read"
    EBS_CSI_KMS = "ebs-csi-kms"


# The bastion's policies (`<deploymentPrefix>-bastion-<purpose>`): the spec's six Bastion Host
# Policies (the default one in two parts: its IAM reads list exact ARNs) and what the SSM agent
# needs for Session Manager.
BASTION_POLICY_PREFIX = "bastion"
BASTION_POLICIES = (
    "ecr-access",
    "cognito-management",
    "ssm-parameters",
    "acm-read",
    "terraform-state",
    "default",
    "default-iam-read",
    "session-manager",
)

# The longest role name decides how long a prefix may be.
MAX_PREFIX_LENGTH = IAM_ROLE_NAME_MAX - max(len(f"-{role}") for role in Role)


def split_role_name(role_name: str) -> tuple[str, Role] | None:
    """A role name the program gives, `<prefix>-<role>`, as (prefix, role); None for another."""
    matches = [role for role in Role if role_name.endswith(f"-{role}")]
    if not matches:
        return None
    role = max(matches, key=len)
    return role_name[: -len(f"-{role}")], role


def default_prefix(deployment_name: str) -> str:
    """The prefix of every IAM name when `deploymentPrefix` is not set."""
    return f"poolside-{deployment_name}"


def ecr_namespace(deployment_name: str) -> str:
    """The repository namespace of a deployment (the spec's `poolside-[deployment-name]`)."""
    return f"poolside-{deployment_name}"


def parameter_path(deployment_name: str) -> str:
    """The deployment's parameter path, `/poolside/deployment/<deploymentName>`."""
    return f"{PARAMETER_ROOT}/{deployment_name}"


@dataclass(frozen=True)
class Names:
    """The physical names of one deployment's resources."""

    prefix: str
    deployment_name: str

    def role(self, role: Role) -> str:
        return f"{self.prefix}-{role}"

    def policy(self, purpose: str) -> str:
        """A customer-managed policy: `<prefix>-<purpose>`."""
        return f"{self.prefix}-{purpose}"

    @property
    def bastion_policy_prefix(self) -> str:
        return f"{self.prefix}-{BASTION_POLICY_PREFIX}"

    def bastion_policy(self, purpose: str) -> str:
        return f"{self.bastion_policy_prefix}-{purpose}"

    def role_policy(self, role: Role, purpose: str) -> str:
        """The customer-managed policy of `purpose` that `role` holds: the bastion's carry its
        own prefix (`bastion_policy`), every other role's `policy`."""
        return self.bastion_policy(purpose) if role is Role.BASTION else self.policy(purpose)

    @property
    def bastion_instance_profile(self) -> str:
        return f"{self.prefix}-bastion-instance-profile"

    @property
    def bastion_security_group(self) -> str:
        return f"{self.prefix}-bastion"

    @property
    def bastion_instance(self) -> str:
        """The bastion's `Name` tag."""
        return f"{self.prefix}-bastion"

    @property
    def lock_table(self) -> str:
        return f"{self.prefix}-terraform-locks"

    @property
    def cluster(self) -> str:
        """A created cluster's name."""
        return self.prefix

    def node_group(self, group: str) -> str:
        return f"{self.prefix}-{group}"

    @property
    def kms_alias(self) -> str:
        return f"alias/{self.prefix}"

    def bucket(self, account_id: str) -> str:
        """The default bucket name: globally unique, stable, one per account like the roles."""
        return f"{self.prefix}-{account_id}"

    def models_bucket(self, account_id: str) -> str:
        """The model checkpoints bucket (Poolside's reference architecture: `<name>-models`),
        made globally unique like the data bucket: at most 55 characters of S3's 63."""
        return f"{self.prefix}-models-{account_id}"

    @property
    def ecr_namespace(self) -> str:
        return ecr_namespace(self.deployment_name)

    @property
    def parameter_path(self) -> str:
        return parameter_path(self.deployment_name)
