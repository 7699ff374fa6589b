"""Every role's trust policy: who may assume it, and on which conditions.

One builder per kind of principal, each returning a policy document that `IamRole` renders like
its other policies (the AWS CDK's `assumedBy`):

* `service_trust`: an AWS service (EKS for the cluster role, EC2 for the node and bastion roles);
* `bedrock_customization_trust`: Bedrock, only for this account's customization jobs in the
  region (confused-deputy conditions);
* `irsa_trust`: Kubernetes service accounts through the cluster's IAM OIDC provider.

Service principals come from `aws_environment.SERVICE_PRINCIPALS` (looked up per partition,
never derived from the DNS suffix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from aws_environment import AwsEnvironment
from policies.documents import Document, document, trust_statement

# The audience the EKS pod identity webhook puts in a projected token, in every partition.
STS_AUDIENCE = "sts.amazonaws.com"


def service_trust(service_principal: str, *, sid: str | None = None) -> Document:
    """An AWS service may assume the role (`sts:AssumeRole`); nothing else."""
    return document([trust_statement({"Service": service_principal}, "sts:AssumeRole", sid=sid)])


def customization_jobs_arn(env: AwsEnvironment) -> str:
    """Every model customization job of this account in the stack's region."""
    return env.regional_arn("bedrock", "model-customization-job/*")


def bedrock_customization_trust(env: AwsEnvironment) -> Document:
    """Bedrock may assume the role, only for this account's customization jobs in this region.

    `aws:SourceAccount` and `aws:SourceArn` are set by Bedrock when it assumes the role for a job;
    together they stop another account's job (the confused deputy) from using this role. Amazon
    Bedrock User Guide, "Create a service role for model customization".
    """
    assume = trust_statement(
        {"Service": env.service_principal("bedrock")},
        ["sts:AssumeRole"],
        sid="BedrockCustomizationJobsAssumeRole",
        condition={
            "StringEquals": {"aws:SourceAccount": env.account_id},
            "ArnLike": {"aws:SourceArn": customization_jobs_arn(env)},
        },
    )
    return document([assume])


def service_account_subject(service_account: str) -> str:
    """`"<namespace>:<name>"` -> `system:serviceaccount:<namespace>:<name>`."""
    namespace, _, name = service_account.partition(":")
    if not namespace or not name:
        raise ValueError(f"service account {service_account!r} must be '<namespace>:<name>'")
    return f"system:serviceaccount:{namespace}:{name}"


def irsa_trust_document(
    provider_arn: str, issuer: str, service_accounts: Sequence[str]
) -> Document:
    """One statement for the provider, conditioned on both `:sub` and `:aud`.

    `StringEquals` on the subjects, unless a service account is a pattern (`*`): then the
    subjects use `StringLike`, and the audience stays `StringEquals` all the same.
    """
    if not service_accounts:
        raise ValueError("an IRSA role needs at least one service account")
    subjects = [service_account_subject(sa) for sa in service_accounts]
    subject: str | list[str] = subjects[0] if len(subjects) == 1 else subjects
    audience = {f"{issuer}:aud": STS_AUDIENCE}
    condition: dict[str, dict[str, Any]]
    if any("*" in s for s in subjects):
        condition = {"StringEquals": audience, "StringLike": {f"{issuer}:sub": subject}}
    else:
        condition = {"StringEquals": {**audience, f"{issuer}:sub": subject}}
    assume = trust_statement(
        {"Federated": provider_arn},
        "sts:AssumeRoleWithWebIdentity",
        sid="ServiceAccountsOfThisCluster",
        condition=condition,
    )
    return document([assume])


def irsa_trust(
    provider_arn: pulumi.Input[str], issuer: pulumi.Input[str], service_accounts: Sequence[str]
) -> pulumi.Output[Document]:
    """`irsa_trust_document` once the provider and its issuer are known (the condition keys
    start with the issuer, so the document is built inside the Output). A malformed service
    account is refused now, before anything is registered."""
    accounts = tuple(service_accounts)
    for account in accounts:
        service_account_subject(account)
    return pulumi.Output.all(provider_arn, issuer).apply(
        lambda values: irsa_trust_document(values[0], values[1], accounts)
    )
