"""Every spelling of a location inside a value, whatever the field is called (issue 12 item 1).

The recogniser knows *shapes*, never regions: which region a spelling names, and whether it
is approved, is always asked of the pack config (the catalogue, `usdr_common/regions.yaml`, and
`allowedRegions`). Spellings found in a string value:

- `region`: a whole value that is a region identifier the catalogue knows (`eu-frankfurt-1`),
  or, in free text, such an identifier as a word or the end of a hyphenated word (`... replica
  in eu-frankfurt-1 ...`, the service principal `objectstorage-eu-frankfurt-1`);
- `key`: a whole value that is exactly a catalogue region key (`FRA`, `fra`). A key is three
  letters, so it is never looked for inside text: `tus`, `ord` or `sin` in a sentence, a tag
  or a name are words, not places. Only a value that is nothing but the key counts, and keys
  inside OCIDs and availability-domain names;
- `aws-region`: an AWS region (`eu-west-1`, `us-gov-west-1`: two letters, optional `gov`/
  `iso` part, a compass direction, a number; AWS General Reference, "Regions and zones"),
  as a whole value, in an endpoint host or in an ARN's region field (`arn:aws:kms:eu-west-1:`);
- `ad`: an availability domain `<tenancy prefix>:<REGION>-AD-<n>`, where REGION is a key
  (`Uocm:PHX-AD-1`), an identifier (`Uocm:EU-FRANKFURT-1-AD-1`) or an identifier without its
  number (`xyz:US-ASHBURN-AD-1`): OCI docs, "Regions and Availability Domains";
- `endpoint`: a host name carrying a region label (`objectstorage.eu-frankfurt-1.oraclecloud.com`,
  `s3.ap-southeast-1.amazonaws.com`, `s3-ap-southeast-1.amazonaws.com`). A label shaped like an
  OCI region (`xx-word-1`) that the catalogue does not know is judged only under a cloud
  provider's domain (oraclecloud*, oraclegovcloud*, amazonaws, customer-oci): elsewhere
  `db-primary-1.example.com` is a host name, not a place;
- `ocid`: the region segment of an OCID (`ocid1.bucket.oc1.fra.xxxx`, `.eu-frankfurt-1.`)
  and its realm.

JSON text (policy documents, serialised inputs) is parsed and walked like nested props.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from resource_props import json_value, walk

OCID: Final = re.compile(r"ocid1\.([a-z0-9_-]+)\.(oc[0-9]+)\.([a-z0-9-]*)\.([a-z0-9]+)", re.IGNORECASE)
# An OCI-shaped region identifier: two letters, words, a number (us-ashburn-1, us-gov-ashburn-1).
REGION_SHAPE: Final = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
# A hyphenated word of free text (a region identifier, or a name ending in one).
_WORD: Final = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![A-Za-z0-9-])")
_REGION_WHOLE: Final = re.compile(rf"^{REGION_SHAPE}$", re.IGNORECASE)
_DIRECTIONS: Final = "north|south|east|west|central|northeast|northwest|southeast|southwest"
AWS_REGION: Final = re.compile(rf"^[a-z]{{2}}(?:-gov|-iso[a-z]?)?-(?:{_DIRECTIONS})-[0-9]{{1,2}}$", re.I)
_AD: Final = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z0-9]{1,12}:([A-Za-z]+(?:-[A-Za-z]+)*(?:-[0-9]+)?)-AD-[0-9]+\b"
)
_ARN: Final = re.compile(r"\barn:aws[a-z-]*:[a-z0-9-]*:([a-z0-9-]*):", re.IGNORECASE)
_HOST: Final = re.compile(r"(?<![a-z0-9.-])((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*)", re.IGNORECASE)
_CLOUD_DOMAIN: Final = re.compile(r"\.(?:oracle(?:gov)?cloud[0-9]*|amazonaws|customer-oci)\.[a-z.]+$", re.I)
_KEY: Final = re.compile(r"^[A-Za-z]{3}$")


@dataclass(frozen=True)
class Spelling:
    kind: str  # region | key | aws-region | ad | endpoint | ocid | arn
    token: str  # what names the place: an identifier, a key, an AD's region part, an OCID segment
    text: str  # the spelling as written (shown in findings)
    realm: str | None = None  # an OCID's realm
    strict: bool = False  # an unknown OCI-shaped token here is a place (not just a look-alike)


def _host_tokens(host: str) -> Iterator[str]:
    """Region-shaped labels of a host, a service prefix stripped (`s3-eu-west-1` -> `eu-west-1`)."""
    for label in host.lower().split("."):
        parts = label.split("-")
        for i in range(len(parts)):
            cand = "-".join(parts[i:])
            if _REGION_WHOLE.match(cand):
                yield cand
                break


def spellings_in(value: str, known: Any) -> Iterator[Spelling]:
    """The location spellings of one string value; `known(token)` says the catalogue knows it."""
    whole = value.strip()
    if not whole:
        return
    if _KEY.match(whole) and known(whole):
        yield Spelling("key", whole, whole)
        return
    if _REGION_WHOLE.match(whole) and not OCID.search(whole):
        if known(whole):
            yield Spelling("region", whole, whole)
        elif AWS_REGION.match(whole):
            yield Spelling("aws-region", whole.lower(), whole)
        return
    low = whole.lower()
    if "ocid1." in low:
        for m in OCID.finditer(whole):
            if m.group(3):
                yield Spelling("ocid", m.group(3), m.group(0), realm=m.group(2).lower(), strict=True)
            else:
                yield Spelling("ocid", "", m.group(0), realm=m.group(2).lower())
    if "-ad-" in low:
        for m in _AD.finditer(whole):
            yield Spelling("ad", m.group(1), m.group(0), strict=True)
    if "arn:" in low:
        for m in _ARN.finditer(whole):
            if m.group(1):
                yield Spelling("arn", m.group(1).lower(), m.group(0), strict=True)
    hosts: set[str] = set()
    if "." in whole:
        for m in _HOST.finditer(whole):
            host = m.group(1)
            if host.lower().startswith("ocid1."):
                continue
            hosts.add(host.lower())
            cloud = bool(_CLOUD_DOMAIN.search(host))
            for token in _host_tokens(host):
                if known(token) or AWS_REGION.match(token) or cloud:
                    yield Spelling("endpoint", token, host, strict=True)
    if "ocid1." in low:
        return
    for m in _WORD.finditer(whole):
        region = _known_suffix(m.group(0), known)
        if region is not None and not any(region.lower() in h for h in hosts):
            yield Spelling("region", region, region)


def _known_suffix(word: str, known: Any) -> str | None:
    """The catalogue region a hyphenated word is or ends in: `eu-frankfurt-1`, and the service
    principal `objectstorage-eu-frankfurt-1` (OCI names a region's Object Storage service
    `objectstorage-<region identifier>` in IAM policies: "Using Replication", Object Storage docs)."""
    if not any(c.isdigit() for c in word):
        return None
    parts = word.split("-")
    for i in range(len(parts) - 2):
        cand = "-".join(parts[i:])
        if _REGION_WHOLE.match(cand) and known(cand):
            return cand
    return None


def json_walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """`walk`, descending into strings that hold JSON objects or arrays."""
    for p, v in walk(value, path):
        if isinstance(v, str) and v.lstrip()[:1] in ("{", "["):
            parsed = json_value(v)
            if isinstance(parsed, dict | list):
                yield from json_walk(parsed, p)
                continue
        yield p, v
