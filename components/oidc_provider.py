"""The cluster's IAM OIDC identity provider, created or reused.

Client id (audience) `sts.amazonaws.com` in every partition, aws-cn included: it is what the EKS
pod identity webhook puts in the projected token, and STS checks it.

No thumbprint is passed. IAM validates EKS issuers against its library of trusted root CAs and,
when a provider is created without a thumbprint list, retrieves the top intermediate CA thumbprint
itself. Leaving the input out means the program never holds a thumbprint that can drift from
what IAM stored, so `pulumi up` shows no thumbprint churn when the issuer's certificate rotates.

An existing provider (`cluster.existingOidcProviderArn`) is reused instead of created: IAM allows
one provider per issuer URL, and a second create fails with EntityAlreadyExists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.replacement import delete_first
from policies.trust import STS_AUDIENCE


@dataclass(frozen=True)
class OidcProviderArgs:
    issuer_url: pulumi.Input[str]
    """The cluster's issuer, `https://oidc.eks.<region>.<suffix>/id/<id>`."""
    existing_provider_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class OidcProvider(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]
    issuer: pulumi.Output[str]
    """Issuer host and path without `https://`: the prefix of the `:sub` and `:aud` keys."""

    def __init__(
        self, name: str, args: OidcProviderArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:OidcProvider", name, None, opts)
        self.issuer_url = pulumi.Output.from_input(args.issuer_url)
        self.issuer = self.issuer_url.apply(lambda url: url.removeprefix("https://"))
        if args.existing_provider_arn is not None:
            self.provider: aws.iam.OpenIdConnectProvider | None = None
            self.arn = pulumi.Output.from_input(args.existing_provider_arn)
        else:
            self.provider = aws.iam.OpenIdConnectProvider(
                f"{name}-provider",
                url=self.issuer_url,
                client_id_lists=[STS_AUDIENCE],
                tags=args.tags,
                # one provider per issuer URL: a replacement deletes the old one first
                opts=delete_first(self),
            )
            self.arn = self.provider.arn
        self.register_outputs({"arn": self.arn, "issuerUrl": self.issuer_url})
