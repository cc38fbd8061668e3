"""S3 bucket policies and ACLs: who may write, delete or change policy.

Shared by the public-write floor and the legacy-replica rules. A bucket policy arrives as
JSON text (or, from some programs, as a structure). Wildcards in actions are honoured
(`s3:Put*`, `s3:*`, `*`), `NotAction` grants everything it does not list, and `NotPrincipal`
with Allow grants everyone it does not list. Conditions never make a grant acceptable:
the pack cannot evaluate them, so only explicit principals count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Final

from resource_props import UNKNOWN, is_unknown, items, json_value

# Actions that write, delete or change who may do so. Reads are listed separately.
WRITE_ACTIONS: Final = (
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:DeleteBucket",
    "s3:BypassGovernanceRetention",
)
POLICY_ACTIONS: Final = (
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutBucketPublicAccessBlock",
)
SENSITIVE_ACTIONS: Final = WRITE_ACTIONS + POLICY_ACTIONS
OBJECT_WRITE_DELETE: Final = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion")
READ_ACTIONS: Final = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions")

ALL_USERS: Final = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS: Final = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY: Final = "http://acs.amazonaws.com/groups/s3/LogDelivery"
# Canned ACLs and what they hand out beyond the owner.
CANNED_WRITE: Final = {"public-read-write": ALL_USERS, "log-delivery-write": LOG_DELIVERY}
CANNED_READ: Final = {
    "public-read": ALL_USERS,
    "public-read-write": ALL_USERS,
    "authenticated-read": AUTHENTICATED_USERS,
}
WRITE_PERMISSIONS: Final = ("WRITE", "WRITE_ACP", "FULL_CONTROL")
READ_PERMISSIONS: Final = ("READ", "READ_ACP", "FULL_CONTROL")


class DocumentError(ValueError):
    """A policy document that cannot be read: nothing about it can be proven."""


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str  # Allow | Deny
    principals: tuple[str, ...]  # "*" means everyone
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    has_condition: bool
    condition: Any

    @property
    def everyone(self) -> bool:
        """Allow to `*`, or Allow with NotPrincipal (everyone except a few)."""
        return "*" in self.principals or self.not_principal

    def grants(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """Which of `wanted` this statement's action list covers."""

        def hit(action: str) -> bool:
            return any(fnmatchcase(action.lower(), p.lower()) for p in self.actions)

        return tuple(a for a in wanted if hit(a) != self.not_action)

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else "a statement"


def _principals(value: Any) -> tuple[str, ...]:
    if is_unknown(value):
        raise DocumentError("a Principal is unknown during preview")
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, dict):
        out: list[str] = []
        for v in value.values():
            out.extend(_principals(v))
        return tuple(out)
    if isinstance(value, list):
        return tuple(p for v in value for p in _principals(v))
    if value is None:
        return ()
    raise DocumentError(f"a Principal of type {type(value).__name__} cannot be read")


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if is_unknown(value):
        raise DocumentError(f"{what} is unknown during preview")
    out = []
    for v in items(value):
        if not isinstance(v, str):
            raise DocumentError(f"{what} holds a {type(v).__name__}, not text")
        out.append(v.strip())
    return tuple(out)


def parse_policy(value: Any) -> list[Statement]:
    """Statements of a bucket policy; raises DocumentError if it cannot be read (or is unknown)."""
    if value is UNKNOWN:
        raise DocumentError("the policy document is unknown during preview")
    doc = json_value(value)
    if isinstance(doc, str):
        raise DocumentError("the policy document is not valid JSON")
    if not isinstance(doc, dict):
        raise DocumentError("the policy document is not a JSON object")
    out: list[Statement] = []
    for i, st in enumerate(items(doc.get("Statement"))):
        if not isinstance(st, dict):
            raise DocumentError(f"Statement[{i}] is not an object")
        effect = st.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise DocumentError(f"Statement[{i}].Effect is {effect!r}, not Allow or Deny")
        not_principal = "NotPrincipal" in st
        principals = _principals(st.get("NotPrincipal") if not_principal else st.get("Principal"))
        not_action = "NotAction" in st
        actions = _strings(st.get("NotAction") if not_action else st.get("Action"), f"Statement[{i}].Action")
        out.append(
            Statement(
                sid=str(st.get("Sid") or ""),
                effect=effect,
                principals=principals,
                not_principal=not_principal,
                actions=actions,
                not_action=not_action,
                has_condition=bool(st.get("Condition")),
                condition=st.get("Condition"),
            )
        )
    return out


@dataclass(frozen=True)
class AclGrant:
    grantee: str  # uri, id, email; "*" when unknown
    permission: str


def acl_grants(props: dict[str, Any]) -> Iterator[AclGrant]:
    """Grants an aws:s3 BucketAcl(V2) hands out: canned ACL and explicit access-control grants."""
    canned = props.get("acl")
    if is_unknown(canned):
        raise DocumentError("the canned ACL is unknown during preview")
    if isinstance(canned, str):
        if canned in CANNED_WRITE:
            yield AclGrant(CANNED_WRITE[canned], "WRITE")
        if canned in CANNED_READ:
            yield AclGrant(CANNED_READ[canned], "READ")
    policy = props.get("accessControlPolicy")
    if is_unknown(policy):
        raise DocumentError("the access control policy is unknown during preview")
    owner = policy.get("owner") if isinstance(policy, dict) else None
    owner_id = owner.get("id") if isinstance(owner, dict) else None
    for g in items(policy.get("grants") if isinstance(policy, dict) else None):
        if not isinstance(g, dict):
            continue
        # The owner always controls its bucket, ACL or not; restraining it is the bucket policy's job.
        if owner_id and isinstance(g.get("grantee"), dict) and g["grantee"].get("id") == owner_id:
            continue
        raw_grantee = g.get("grantee")
        grantee: dict[str, Any] = raw_grantee if isinstance(raw_grantee, dict) else {}
        who = next(
            (str(grantee[k]) for k in ("uri", "id", "emailAddress") if isinstance(grantee.get(k), str)),
            "*",
        )
        perm = g.get("permission")
        yield AclGrant(who, perm if isinstance(perm, str) else "FULL_CONTROL")
