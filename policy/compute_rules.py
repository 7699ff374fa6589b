"""EC2: instances, spot instance requests and launch templates (the node groups' instances come
from these), and security-group ingress.

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
SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

# A spot instance request takes an instance's arguments, and is judged as one.
_INSTANCES = frozenset({INSTANCE, SPOT_INSTANCE_REQUEST})
_MACHINES = _INSTANCES | {LAUNCH_TEMPLATE}
# The root device names of the AMIs EKS nodes run: Amazon Linux 2 and 2023 and Bottlerocket
# (`/dev/xvda`), Ubuntu and Windows (`/dev/sda1`). A launch template names no AMI of its own here
# (the node group picks it), so its root is one of these.
ROOT_DEVICE_NAMES = ("/dev/xvda", "/dev/sda1")
# The widest network an ingress rule may admit; a wider one is the internet, however it is
# split (`0.0.0.0/1` and `128.0.0.0/1` together are `0.0.0.0/0`).
WIDEST_PREFIX = {4: 8, 6: 16}


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
    if resource.type in _INSTANCES:
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
    if resource.type in _INSTANCES:
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
        return
    root_named = False
    for index in range(len(mappings)):
        device = resource.get("blockDeviceMappings", index, "deviceName")
        ebs = resource.get("blockDeviceMappings", index, "ebs")
        root = device in ROOT_DEVICE_NAMES
        root_named = root_named or root
        if isinstance(ebs, Mapping):
            if not _true(ebs.get("encrypted")):
                yield f"blockDeviceMappings[{index}].ebs.encrypted is not true"
            continue
        mapping = resource.get("blockDeviceMappings", index)
        other = isinstance(mapping, Mapping) and (
            mapping.get("noDevice") is not None or mapping.get("virtualName") is not None
        )
        if root or not other:  # not an instance store, nor a device of the AMI's left out
            yield (
                f"blockDeviceMappings[{index}] ({device}) has no ebs: the volume would be the "
                "AMI's, encrypted only if the account encrypts by default; give it ebs.encrypted"
            )
    if not root_named:
        yield (
            f"no blockDeviceMappings entry maps the root device ({' or '.join(ROOT_DEVICE_NAMES)}):"
            " the root volume would be the AMI's, encrypted only if the account encrypts by "
            "default; map it with ebs.encrypted"
        )


def _internet_wide(cidr: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False  # not a CIDR: the provider refuses it
    return network.prefixlen < WIDEST_PREFIX[network.version]


def _wide_cidrs(resource: Resource, *paths: tuple[str | int, ...]) -> list[str]:
    cidrs: list[str] = []
    for path in paths:
        value = resource.get(*path)
        listed = value if isinstance(value, list) else [value]
        cidrs += [str(c) for c in listed if c is not None and _internet_wide(c)]
    return cidrs


def _check_world_ingress(resource: Resource) -> Iterator[str]:
    fix = (
        "internet-wide (a prefix shorter than /8, or /16 for IPv6); name the sources (a security "
        "group, or the networks that need it)"
    )
    if resource.type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for index in range(len(resource.items("ingress"))):
            rule = ("ingress", index)
            if cidrs := _wide_cidrs(resource, (*rule, "cidrBlocks"), (*rule, "ipv6CidrBlocks")):
                yield f"ingress[{index}] admits {', '.join(cidrs)}: {fix}"
        return
    if resource.type == SECURITY_GROUP_RULE:
        if resource.get("type") != "ingress":
            return
        cidrs = _wide_cidrs(resource, ("cidrBlocks",), ("ipv6CidrBlocks",))
    else:
        cidrs = _wide_cidrs(resource, ("cidrIpv4",), ("cidrIpv6",))
    if cidrs:
        yield f"the ingress rule admits {', '.join(cidrs)}: {fix}"


RULES = (
    ResourceRule(
        name="ec2-imdsv2-required",
        description=(
            "An instance, spot instance request or launch template requires IMDSv2 "
            "(httpTokens required)."
        ),
        types=_MACHINES,
        check=_check_imdsv2,
    ),
    ResourceRule(
        name="ec2-no-public-ip",
        description=(
            "An instance, spot instance request or launch template never asks for a public IP "
            "address."
        ),
        types=_MACHINES,
        check=_check_no_public_ip,
    ),
    ResourceRule(
        name="ec2-encrypted-volumes",
        description=(
            "An instance's (spot request's) or launch template's EBS volumes are encrypted, "
            "root included; a launch template maps its root device."
        ),
        types=_MACHINES,
        check=_check_encrypted_volumes,
    ),
    ResourceRule(
        name="ec2-no-world-ingress",
        description=(
            "No security group admits traffic from the internet: no ingress CIDR wider than /8 "
            "(IPv4) or /16 (IPv6), 0.0.0.0/0 and ::/0 included."
        ),
        types=frozenset(
            {
                SECURITY_GROUP,
                DEFAULT_SECURITY_GROUP,
                SECURITY_GROUP_RULE,
                SECURITY_GROUP_INGRESS_RULE,
            }
        ),
        check=_check_world_ingress,
    ),
)
