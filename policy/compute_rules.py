"""EC2: instances and launch templates (the node groups' instances come from these), and
security-group ingress.

An instance states its settings or fails: left out, a public address comes from the subnet's
default, the root volume's encryption from the AMI and the account, IMDSv1 from the AMI. A
launch template's `networkInterfaces` are optional (the node group's subnets decide, and the
program's are private); a public address it asks for is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import Resource, ResourceRule

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

_MACHINES = frozenset({INSTANCE, LAUNCH_TEMPLATE})


def _true(value: Any) -> bool:
    """A launch template's booleans are strings on the wire ("true"); an instance's are not."""
    return value is True or value == "true"


def _check_imdsv2(resource: Resource) -> Iterator[str]:
    options = resource.get("metadataOptions")
    options = options if isinstance(options, Mapping) else {}
    if options.get("httpEndpoint") == "disabled":
        return  # no instance metadata service at all
    if options.get("httpTokens") != "required":
        yield (
            f"metadataOptions.httpTokens is {options.get('httpTokens')!r}: set 'required' "
            "(IMDSv2 only; IMDSv1 answers any request that reaches it)"
        )


def _check_no_public_ip(resource: Resource) -> Iterator[str]:
    if resource.type == INSTANCE:
        if resource.get("associatePublicIpAddress") is not False:
            yield (
                "associatePublicIpAddress is not false: set it, or the subnet's default may "
                "give the instance a public address"
            )
        return
    for index in range(len(resource.items("networkInterfaces"))):
        if _true(resource.get("networkInterfaces", index, "associatePublicIpAddress")):
            yield f"networkInterfaces[{index}] asks for a public address"


def _check_encrypted_volumes(resource: Resource) -> Iterator[str]:
    if resource.type == INSTANCE:
        if resource.get("rootBlockDevice", "encrypted") is not True:
            yield "rootBlockDevice.encrypted is not true: encrypt the root volume"
        for index in range(len(resource.items("ebsBlockDevices"))):
            if resource.get("ebsBlockDevices", index, "encrypted") is not True:
                yield f"ebsBlockDevices[{index}].encrypted is not true"
        return
    mappings = resource.items("blockDeviceMappings")
    if not mappings:
        yield (
            "no blockDeviceMappings: the root volume would be the AMI's, encrypted only if the "
            "account encrypts by default; map it with ebs.encrypted"
        )
    for index in range(len(mappings)):
        ebs = resource.get("blockDeviceMappings", index, "ebs")
        if isinstance(ebs, Mapping) and not _true(ebs.get("encrypted")):
            yield f"blockDeviceMappings[{index}].ebs.encrypted is not true"


def _everywhere(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False  # not a CIDR: the provider refuses it


def _world_cidrs(resource: Resource, *paths: tuple[str | int, ...]) -> list[str]:
    cidrs: list[str] = []
    for path in paths:
        value = resource.get(*path)
        cidrs += [str(c) for c in (value if isinstance(value, list) else [value]) if _everywhere(c)]
    return cidrs


def _check_world_ingress(resource: Resource) -> Iterator[str]:
    fix = "name the sources (a security group, or the networks that need it)"
    if resource.type == SECURITY_GROUP:
        for index in range(len(resource.items("ingress"))):
            rule = ("ingress", index)
            if cidrs := _world_cidrs(resource, (*rule, "cidrBlocks"), (*rule, "ipv6CidrBlocks")):
                yield f"ingress[{index}] admits {', '.join(cidrs)}: {fix}"
        return
    if resource.type == SECURITY_GROUP_RULE:
        if resource.get("type") != "ingress":
            return
        cidrs = _world_cidrs(resource, ("cidrBlocks",), ("ipv6CidrBlocks",))
    else:
        cidrs = _world_cidrs(resource, ("cidrIpv4",), ("cidrIpv6",))
    if cidrs:
        yield f"the ingress rule admits {', '.join(cidrs)}: {fix}"


RULES = (
    ResourceRule(
        name="ec2-imdsv2-required",
        description="An instance or launch template requires IMDSv2 (httpTokens required).",
        types=_MACHINES,
        check=_check_imdsv2,
    ),
    ResourceRule(
        name="ec2-no-public-ip",
        description="An instance or launch template never asks for a public IP address.",
        types=_MACHINES,
        check=_check_no_public_ip,
    ),
    ResourceRule(
        name="ec2-encrypted-volumes",
        description="An instance's or launch template's EBS volumes are encrypted, root included.",
        types=_MACHINES,
        check=_check_encrypted_volumes,
    ),
    ResourceRule(
        name="ec2-no-world-ingress",
        description="No security group admits traffic from 0.0.0.0/0 or ::/0.",
        types=frozenset({SECURITY_GROUP, SECURITY_GROUP_RULE, SECURITY_GROUP_INGRESS_RULE}),
        check=_check_world_ingress,
    ),
)
