"""USDR-SEC-16: no pre-authenticated request makes US user data public to read.

An OCI pre-authenticated request (PAR) is a URL that anyone holding it can use without
authenticating (OCI docs, "Using Pre-Authenticated Requests"): one that reads objects is public
read access. Per the SDK (pulumi_oci.objectstorage.Preauthrequest): `access_type` is one of
`ObjectRead`, `ObjectWrite`, `ObjectReadWrite`, `AnyObjectRead`, `AnyObjectReadWrite`;
`bucket_listing_action` (`Deny` or `ListObjects`) applies to the `AnyObject*` types;
`time_expires` (RFC 3339) is required. A reading PAR is a violation when it is bucket-wide
(`AnyObject*`, or `object_name` unset), allows listing, or lives longer than MAX_DAYS from today;
a single-object, read-only, short-lived share is the documented safe use. A value that is
unknown during preview cannot be proven safe. Writes are SEC-09's (bucket_public_writes).
A deliberate public share is accepted only by a time-boxed waiver naming the PAR.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from pack_config import PackConfig
from pack_policy import MANDATORY, Finding, Meta, resource_policy
from pulumi_policy import Severity
from resource_props import Resource, is_unknown

PAR = "oci:ObjectStorage/preauthrequest:Preauthrequest"
READS = ("ObjectRead", "ObjectReadWrite", "AnyObjectRead", "AnyObjectReadWrite")
MAX_DAYS = 7  # a "short-lived" share: a week at most

META = Meta(
    name="security-par-public-read",
    control="USDR-SEC-16",
    title="No pre-authenticated request makes data public to read",
    description="A pre-authenticated request that reads objects is public access: only a single object, "
    f"no listing, and at most {MAX_DAYS} days; anything wider needs a time-boxed waiver.",
    enforcement=MANDATORY,
    severity=Severity.HIGH,
    types=(PAR,),
    waivable=True,
    remediation='Share one object (`object_name`), `access_type="ObjectRead"`, `bucket_listing_action='
    f'"Deny"`, `time_expires` within {MAX_DAYS} days; or add a waiver naming the PAR with an owner, reason '
    "and expiry.",
)


def check(res: Resource, cfg: PackConfig) -> Iterator[Finding]:
    access = res.props.get("accessType")
    if is_unknown(access):
        yield Finding("accessType is unknown during preview: the PAR cannot be proven not to read")
        return
    if access not in READS:
        return
    problems: list[str] = []
    listing = res.props.get("bucketListingAction")
    obj = res.props.get("objectName")
    if is_unknown(listing) or is_unknown(obj):
        problems.append("its object or listing is unknown during preview")
    else:
        if str(access).startswith("AnyObject") or not obj:
            problems.append("bucket-wide (every object)")
        if listing == "ListObjects":
            problems.append("listing allowed")
    expires = res.props.get("timeExpires")
    if is_unknown(expires) or not isinstance(expires, str):
        problems.append("its expiry is unknown or unset")
    else:
        try:
            until = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"timeExpires {expires!r} is not an RFC 3339 time")
        else:
            day = until.astimezone(UTC).date() if until.tzinfo else until.date()
            days = (day - cfg.today).days
            if days > MAX_DAYS:
                problems.append(f"valid for {days} days (more than {MAX_DAYS})")
    if problems:
        yield Finding(
            f"the pre-authenticated request gives anyone with its URL {access}: {'; '.join(problems)}"
        )


POLICY = resource_policy(META, check)
