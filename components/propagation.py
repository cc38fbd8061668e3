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
is given (`after`). `opts()` returns the options a component is built with so that it and every
resource below it depend on the wait: a resource transformation (inherited by children, unlike
`depends_on` on a component) adds the Sleep to each resource's `depends_on`. The compartment ids
themselves still come from the compartments, so the property dependencies (what the policy pack
and the residency map read) keep naming the compartment a resource lives in. The wait runs on
create only; `pulumi destroy` does not wait.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_time as time


@dataclass(frozen=True)
class PropagationArgs:
    seconds: int  # stacks/settings.py: tenancy.propagationWaitSeconds
    # The new compartments and IAM policies to wait for (their creation starts the clock).
    after: tuple[pulumi.Resource, ...]


class PropagationWait(pulumi.ComponentResource):
    """`<name>-sleep`; `opts()`: what makes a component (and its children) wait for it."""

    sleep: time.Sleep

    def __init__(self, name: str, args: PropagationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("usdr:access:PropagationWait", name, None, opts)
        if args.seconds <= 0:
            raise ValueError(f"{name}: a wait of {args.seconds} s waits for nothing")
        if not args.after:
            raise ValueError(f"{name}: nothing to wait for")
        self.sleep = time.Sleep(
            f"{name}-sleep",
            create_duration=f"{args.seconds}s",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        self.register_outputs({"sleep_id": self.sleep.id})

    def _after_the_wait(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        extra = pulumi.ResourceOptions(depends_on=[self.sleep])
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, extra))

    def opts(self, base: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """`base` plus the transformation: the component and every resource below it wait."""
        return pulumi.ResourceOptions.merge(
            base, pulumi.ResourceOptions(transformations=[self._after_the_wait])
        )
