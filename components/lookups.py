"""How the components read provider lookups (data sources), online and offline.

A few values exist only in the tenancy: the region's Oracle services object, the firewall's
private IP object, the Object Storage namespace, Cloud Guard's Oracle-managed recipes. They are
looked up with output-form invokes on the component's own provider (never in an `apply` that
creates resources), and read with one rule:

- the provider answered with the collection, and what we need is in it: use it;
- the provider answered, and it is not there: raise, naming what is missing (a gateway to
  nothing or a target without recipes must not be created quietly);
- nobody answered at all (the collection field is absent, which a real provider never does;
  it happens under mocks that do not model data sources, e.g. the component tests'
  `answer_lookups=False`): the value is unknown, exactly as in a preview before creation.
  preflight answers these lookups (preflight/engine/lookups.py and the repository's
  preflight-lookups.yaml), so its records hold real-shaped values.
"""

from __future__ import annotations

from typing import Any

import pulumi


async def _resolved(value: Any) -> Any:
    return value


def not_answered() -> pulumi.Output[Any]:
    """An unknown value: what a lookup yields when no provider answered it."""
    return pulumi.Output(set(), _resolved(None), _resolved(False))
