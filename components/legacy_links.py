"""What a region's network may exchange with a legacy site linked to its DRG (issue 13 item 6).

A legacy site is reached over IPSec, and the estate has exactly one reason to talk to it: its
S3-compatible store. Restores read from the store (both modes); in mode `replica` the
replication job also writes to it. Both are connections *opened by US hosts* to the store's
endpoint on its HTTPS port, so the network admits exactly that, whatever the mode:

- security lists, NSGs, route tables and the firewall policy name the store's addresses and
  port, never the whole site: no other host of the site is reachable;
- nothing opens a connection from the site into a VCN: no ingress rule names the site, the
  firewall rejects any session the site starts, and the DRG attachment's table only steers
  the replies of US-opened sessions through the firewall. Security lists, NSGs and the firewall
  are stateful (OCI docs, Security Rules: "response traffic is automatically allowed";
  Network Firewall policies match sessions), so replies need no rule;
- the IPSec tunnel's static routes carry the site's CIDR, nothing wider.

Whether a request reads or writes is decided by the bucket policy (components/legacy_backup.py:
in mode `frozen` nobody writes), not by the network: both are HTTPS to the same endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network


@dataclass(frozen=True)
class LegacyLink:
    """A legacy datacenter reached over IPSec from this region's DRG."""

    site: str  # settings' site name, e.g. legacy-us-east
    cidr: IPv4Network  # the site's whole address space: what the IPSec link carries
    cpe_ip: str  # the site's VPN endpoint (public address)
    store_addresses: tuple[IPv4Address, ...]  # the store's endpoint, inside `cidr`
    store_port: int = 443
    replica: bool = False  # mode replica: the replication job writes to the store too

    def __post_init__(self) -> None:
        if not self.store_addresses:
            raise ValueError(f"legacy link {self.site}: no store address")
        outside = [str(a) for a in self.store_addresses if a not in self.cidr]
        if outside:
            raise ValueError(f"legacy link {self.site}: {', '.join(outside)} not inside {self.cidr}")

    @property
    def store_cidrs(self) -> tuple[str, ...]:
        """The store's addresses as host routes / rule destinations."""
        return tuple(f"{a}/32" for a in self.store_addresses)

    @property
    def purpose(self) -> str:
        return (
            f"replication to and restores from {self.site}'s store"
            if self.replica
            else (f"restores from {self.site}'s store")
        )
