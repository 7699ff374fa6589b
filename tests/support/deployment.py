"""Facts of a whole deployment that several tests assert: its SSM parameters, an existing cluster."""

from __future__ import annotations

# The deployment's parameters under /poolside/deployment/<deploymentName>/, every one of them:
# always, and each optional one with the part of the stack it names.
PARAMETERS = (
    "region",
    "vpc-id",
    "cluster-name",
    "oidc-provider-arn",
    "pod-role-arn",
    "bucket-name",
    "kms-key-arn",
    "ecr-repository-urls",
)
CUSTOMIZATION_PARAMETER = "customization-role-arn"  # with `bedrock.enabled`
LOAD_BALANCER_CONTROLLER_PARAMETER = "load-balancer-controller-role-arn"  # with the controller


# The inference role's and the models bucket's (`inference.enabled`).
INFERENCE_PARAMETERS = ("models-bucket-name", "inference-role-arn")


def parameter_names(
    deployment_name: str,
    *,
    bedrock: bool = True,
    load_balancer_controller: bool = True,
    inference: bool = True,
) -> set[str]:
    """The full name of every parameter the deployment publishes, and no other."""
    keys = [
        *PARAMETERS,
        *([CUSTOMIZATION_PARAMETER] if bedrock else []),
        *([LOAD_BALANCER_CONTROLLER_PARAMETER] if load_balancer_controller else []),
        *(INFERENCE_PARAMETERS if inference else []),
    ]
    return {f"/poolside/deployment/{deployment_name}/{key}" for key in keys}


# An existing cluster (`cluster.existingClusterName`) and the IAM OIDC provider of its issuer.
EXISTING_CLUSTER = "customer-eks"
EXISTING_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXISTING"
EXISTING_PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{EXISTING_ISSUER}"


def existing_cluster(**overrides: object) -> dict[str, dict[str, object]]:
    """Cluster overrides: `eks.get_cluster("customer-eks")` reports its issuer and these fields."""
    issuer = {"identities": [{"oidcs": [{"issuer": f"https://{EXISTING_ISSUER}"}]}]}
    return {EXISTING_CLUSTER: {**issuer, **overrides}}
