"""The wait between creating compartments and IAM policies and using them (issue 13 item 3).

OCI creates a compartment or a policy in the home region and propagates it to every region
asynchronously: a resource created in a new compartment at once in another region fails with
"not found in Compartment Tree", and a service whose new grant has not arrived yet fails with
404 NotAuthorizedOrNotFound (a bucket whose key the Object Storage service may not use yet,
replication, Cloud Guard's configuration). Oracle's Core Landing Zone waits with two
`time_sleep` resources of 70 s (`wait_on_compartments`, `wait_on_services_policy`,
sec_vault.tf), and its README's troubleshooting item 11 shows the 404 that Cloud Guard gives
where it could not wait.

This component is one `pulumiverse_time.Sleep` that depends on every compartment and policy it
is given (`after`) and passes the compartment ids through its `triggers`: whoever reads
`compartment_ids[role]` depends on the wait without having to remember it, and a resource that
needs only a grant depends on `sleep` explicitly. The wait runs on create (and when a
compartment id changes), not on every update; `pulumi destroy` does not wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumiverse_time as time


@dataclass(frozen=True)
class PropagationArgs:
    seconds: int  # stacks/settings.py: tenancy.propagationWaitSeconds
    compartment_ids: Mapping[str, pulumi.Input[str]]  # role -> the new compartment's id
    # The new compartments and IAM policies to wait for (their creation starts the clock).
    after: tuple[pulumi.Resource, ...]


def _triggered(name: str, triggers: Mapping[str, str] | None, role: str) -> str:
    """The id the wait passed through; missing would put a resource in no compartment at all."""
    if not triggers or role not in triggers:
        raise ValueError(f"{name}: the wait returned no compartment id for {role!r}")
    return triggers[role]


class PropagationWait(pulumi.ComponentResource):
    """`<name>-sleep`; `compartment_ids` are the same ids, available only after the wait."""

    sleep: time.Sleep
    compartment_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PropagationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:access:PropagationWait", name, None, opts)
        if args.seconds <= 0:
            raise ValueError(f"{name}: a wait of {args.seconds} s waits for nothing")
        if not args.after:
            raise ValueError(f"{name}: nothing to wait for")
        self.sleep = time.Sleep(
            f"{name}-sleep",
            create_duration=f"{args.seconds}s",
            triggers=dict(args.compartment_ids),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        triggers = self.sleep.triggers
        self.compartment_ids = {
            role: triggers.apply(lambda t, role=role: _triggered(name, t, role))
            for role in args.compartment_ids
        }
        self.register_outputs({"compartment_ids": self.compartment_ids})
