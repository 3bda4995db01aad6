"""Upstream and webhook URLs: the shape every one must have, and the hosts a function may not call.

The upstream URLs and the webhook are called from inside the MSP's AWS account, with credentials or
a digest. Pure: the settings models and ``configuration.check_upstream_urls`` apply the rule; the
local runner's switch (its fakes listen on loopback) comes in as ``allow_loopback``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_url(value: str | None, *, limit: int = 500) -> str | None:
    """An http(s) URL with a host and nothing odd in it (used for every upstream URL)."""
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or _CONTROL.search(value):
        raise ValueError("must be an http(s) URL such as https://example.halopsa.com/api")
    if len(value) > limit:
        raise ValueError(f"is longer than {limit} characters")
    return value


# -- where the functions may send credentials and digests ----------------------------------------
# The upstream URLs and the webhook are called from inside the MSP's AWS account, with credentials
# or a digest: one naming the instance metadata service (169.254.169.254), a VPC or loopback
# address would be reached from there (server-side request forgery). An IP literal is judged by
# its address, in any form the resolver reads as one (2852039166 and 0xa9fea9fe are
# 169.254.169.254). A host name is judged by its form only and is not resolved: what a name
# resolves to when it is saved is not what it resolves to when it is used (DNS rebinding), so a
# lookup here would promise what it cannot (docs/SECURITY.md). Names only a local resolver knows
# are refused: localhost, RFC 6761's .localhost, .internal (AWS's VPC names), .local (mDNS),
# .home.arpa and any name without a dot (a VPC's search domain would complete it).
PUBLIC_URL = "must be an https:// URL on a public host"
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_INET_ATON = re.compile(r"[0-9a-fx.]+")  # decimal, octal and hex parts, as inet_aton reads them
_LOCAL_NAMES = {
    ".internal": "a private-use name",
    ".home.arpa": "a private-use name",
    ".local": "a link-local (mDNS) name",
}
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip_literal(host: str) -> IpAddress | None:
    """The address ``host`` is written as, if it is one; an IPv4-mapped IPv6 one as its IPv4."""
    try:
        address: IpAddress = ipaddress.ip_address(host)
    except ValueError:
        if not _INET_ATON.fullmatch(host):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _address_kind(address: IpAddress) -> str | None:
    """What a non-public address is, in words (None for a public one)."""
    kinds = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_multicast, "a multicast address"),
        (address in _CGNAT, "a shared (carrier-grade NAT) address"),
        (any(address in network for network in _PRIVATE), "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((kind for found, kind in kinds if found), None)


def _host_problem(host: str) -> tuple[str, str, bool] | None:
    """(how to name the host, what it is, whether it is loopback), or None for a public host."""
    address = _ip_literal(host)
    if address is not None:
        kind = _address_kind(address)
        named = host if str(address) == host else f"{host} ({address})"
        return (named, f"is {kind}", address.is_loopback) if kind else None
    if host == "localhost" or host.endswith(".localhost"):
        return host, "is a loopback name", True
    for suffix, kind in _LOCAL_NAMES.items():
        if host.endswith(suffix):
            return host, f"is {kind}", False
    if "." not in host:
        return host, "is a single-label name, which only a local resolver knows", False
    return None


def upstream_url_refusal(url: str, *, allow_loopback: bool, secret: bool = False) -> str | None:
    """Why a function may not call ``url`` ("must be an https:// URL on a public host; 10.0.0.5 is
    a private address"), or None when it may. ``allow_loopback`` (the local runner: its fakes
    listen on 127.0.0.1) lets a loopback host through, over http:// too. A ``secret`` URL's host
    is not named (the webhook: whoever holds the URL may post)."""
    parts = urlsplit(url)
    problem = _host_problem((parts.hostname or "").lower().rstrip("."))  # "localhost." is localhost
    if problem is not None and not (allow_loopback and problem[2]):
        named, kind, _ = problem
        return f"{PUBLIC_URL}; {'its host' if secret else named} {kind}"
    if parts.scheme != "https" and problem is None:
        return f"{PUBLIC_URL}; http:// is not encrypted"
    return None
