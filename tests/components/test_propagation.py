"""components/propagation.py: the wait between creating compartments and policies and their
first use (issue 13 item 3; Oracle's Core Landing Zone: time_sleep 70 s, sec_vault.tf)."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci
import pulumiverse_time as time
import pytest

from components.propagation import PropagationArgs, PropagationWait
from tests.components.harness import synth

TENANCY = "ocid1.tenancy.oc1..aaaatesttenancy"


class User(pulumi.ComponentResource):
    """A component built after the wait: its child, not the component, uses the compartment."""

    def __init__(self, name: str, compartment_id: pulumi.Input[str], opts: pulumi.ResourceOptions) -> None:
        super().__init__("test:index:User", name, None, opts)
        oci.logging.LogGroup(
            f"{name}-log-group",
            compartment_id=compartment_id,
            display_name="g",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def build(seconds: int = 70, with_after: bool = True) -> tuple[object, object]:
    def program() -> dict[str, object]:
        home = oci.Provider("oci-home", region="us-ashburn-1")
        compartment = oci.identity.Compartment(
            "c",
            compartment_id=TENANCY,
            name="us-data",
            description="d",
            opts=pulumi.ResourceOptions(provider=home),
        )
        wait = PropagationWait(
            "iam-propagation",
            PropagationArgs(seconds, (compartment,) if with_after else ()),
            pulumi.ResourceOptions(provider=time.Provider("time")),
        )
        user = User("user", compartment.id, wait.opts(pulumi.ResourceOptions(provider=home)))
        return {"compartment": compartment, "wait": wait, "user": user}

    s = synth(program)
    return s, s.value


def test_every_resource_below_a_component_built_after_the_wait_waits() -> None:
    """A transformation, because `depends_on` on a component is not inherited by its children."""
    s, _ = build()
    sleep = s.named("iam-propagation-sleep")
    compartment = s.named("c")
    user = s.named("user-log-group")
    assert sleep.type == "time:index/sleep:Sleep"
    assert sleep.inputs["createDuration"] == "70s"
    assert sleep.parent.endswith("usdr:access:PropagationWait::iam-propagation"), sleep.urn
    assert compartment.urn in sleep.dependencies, (
        f"{sleep.urn}: the clock starts before the compartment exists"
    )
    assert sleep.urn in user.dependencies, f"{user.urn}: used the compartment before the wait"
    # The id still comes from the compartment: the pack reads which compartment from it.
    assert user.inputs["compartmentId"] == compartment.id


def test_a_wait_for_nothing_or_of_no_time_is_refused() -> None:
    with pytest.raises(Exception, match="nothing to wait for"):
        build(with_after=False)
    with pytest.raises(Exception, match="waits for nothing"):
        build(seconds=0)
