"""Every role's and customer-managed policy's origin, collected from the policy modules.

`POLICY_ORIGINS[role][purpose]` is the `PolicyOrigin` of the policy `<prefix>-<purpose>` (the
bastion's: `<prefix>-bastion-<purpose>`) that the role holds, as declared beside the function that
builds it; `ROLE_ORIGINS[role]` says which section of the specification a role answers to, or
why the deployment needs it beyond the specification.
"""

from __future__ import annotations

from collections.abc import Mapping

from naming import Role
from policies import (
    aws_load_balancer_controller,
    bastion,
    bedrock_customization_role,
    ebs_csi_driver,
    eks_pod_role,
    inference_role,
)
from policies.spec import PolicyOrigin, RoleOrigin, SpecSection

POLICY_ORIGINS: Mapping[Role, Mapping[str, PolicyOrigin]] = {
    Role.POD: eks_pod_role.ORIGINS,
    Role.BASTION: bastion.ORIGINS,
    Role.LOAD_BALANCER_CONTROLLER: aws_load_balancer_controller.ORIGINS,
    Role.INFERENCE: inference_role.ORIGINS,
    Role.EBS_CSI: ebs_csi_driver.ORIGINS,
    Role.BEDROCK_CUSTOMIZATION: bedrock_customization_role.ORIGINS,
}

ROLE_ORIGINS: Mapping[Role, RoleOrigin] = {
    Role.POD: RoleOrigin(SpecSection.EKS_POD_ROLE, "the Poolside application pods (IRSA)"),
    Role.BASTION: RoleOrigin(
        SpecSection.BASTION_HOST, "the bastion host, the deployment's operations host (EC2)"
    ),
    Role.LOAD_BALANCER_CONTROLLER: RoleOrigin(
        SpecSection.LOAD_BALANCER_CONTROLLER, "the AWS Load Balancer Controller (IRSA)"
    ),
    Role.CLUSTER: RoleOrigin(
        None,
        "the EKS control plane's role, which every EKS cluster needs; the program creates it "
        "rather than pulumi-eks, so that the plan shows it",
    ),
    Role.NODE: RoleOrigin(
        None,
        "the managed nodes' role, which every EKS node needs to join the cluster; it holds no "
        "CNI policy",
    ),
    Role.VPC_CNI: RoleOrigin(
        None,
        "the VPC CNI's own role (IRSA), as AWS recommends, so that the node role holds no "
        "network-interface writes",
    ),
    Role.EBS_CSI: RoleOrigin(
        None, "the EBS CSI controller's role (IRSA): PersistentVolumes on EBS, encrypted"
    ),
    Role.INFERENCE: RoleOrigin(
        None,
        "Poolside's inference pods (IRSA), as Poolside's EKS documentation describes them: read "
        "the model checkpoints",
    ),
    Role.BEDROCK_CUSTOMIZATION: RoleOrigin(
        None,
        "the role the pod passes to Bedrock for its customization jobs (the spec's Bedrock "
        "Customization Job Policy passes it)",
    ),
}
