"""Where a webhook may not point (docs/activation.md, "Destinations", turn 3).

Destinations are the company's own systems, so private addresses and loopback
are allowed; link-local addresses and the cloud providers' metadata services
never are (they hand out the server's own credentials). A URL is checked when
the destination is saved (its host as written) and again at every delivery,
after DNS resolution: every address the name resolves to is checked, and the
delivery connects to the checked address, so a name cannot be switched to
another address between the check and the connection (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names the metadata services answer to (resolved by the cloud's own DNS).
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
REFUSED_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The webhook's host is, or resolves to, a link-local or cloud-metadata address."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4 or the old compatible form)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 0xFFFF):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refused_address(address: IPAddress) -> bool:
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
    return any(
        c.version == network.version and c in network
        for c in candidates
        for network in REFUSED_NETWORKS
    )


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address, in any form a resolver reads as one
    (``169.254.169.254``, ``2852039166``, ``0xa9.0xfe.0xa9.0xfe``, ``[::ffff:a9fe:a9fe]``)."""
    text = text.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def _refusal(host: str, address: IPAddress | None = None) -> str:
    where = f"{host} resolves to {address}, which is" if address is not None else f"{host} is"
    return (
        f"{where} a link-local or cloud-metadata address; webhooks may point at the "
        "company's own systems (private addresses and loopback included), never at these"
    )


def host_refusal(host: str) -> str | None:
    """Why a webhook may not point at ``host`` as written, or None (no DNS lookup)."""
    name = (host or "").strip().lower().rstrip(".")
    if name in METADATA_HOSTS:
        return _refusal(name)
    address = parse_address(name)
    if address is not None and refused_address(address):
        return _refusal(name)
    return None


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to: ``host`` resolved, every address it has checked.

    Raises TargetRefused when the host or any of its addresses is refused, and
    socket.gaierror when it does not resolve.
    """
    reason = host_refusal(host)
    if reason is not None:
        raise TargetRefused(reason)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    for text in addresses:
        address = parse_address(text)
        if address is None or refused_address(address):
            raise TargetRefused(_refusal(host, address or text))
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    return addresses[0]
