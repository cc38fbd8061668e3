"""Where Pulumi state may live: an OCI bucket in an approved US region, through the S3 API.

docs/state-backend.md prescribes the URL; this module is the one check of it, used by
`dev.py preview|up|refresh` before the CLI runs, by CI's login action, and by the tests of
`Pulumi.yaml`'s pinned `backend.url`:

    s3://<bucket>?endpoint=<namespace>.compat.objectstorage.<region>.oraclecloud.com
        &region=<region>&s3ForcePathStyle=true&profile=usdr-state

* the endpoint is OCI's Amazon S3 Compatibility API host of a region the region catalogue
  approves for US data in the commercial realm (oc1) — by the catalogue, never by a `us-`
  prefix (us-langley-1 and us-luke-1 are US Government realm regions);
* `region=` names the same region (the S3 API signs requests for it);
* `s3ForcePathStyle=true` (OCI serves `endpoint/bucket/key`);
* `profile=usdr-state`: the state's keys come from that profile, never from AWS_ACCESS_KEY_ID,
  which would also reach the legacy-site providers.

Which URL the CLI uses (pulumi/pulumi pkg/workspace/creds.go GetCurrentCloudURLWithSource):
PULUMI_BACKEND_URL when set, else Pulumi.yaml's `backend.url`, else the stored login. Pulumi.yaml
pins one, so a stored `pulumi login` elsewhere never applies to this project.

    python -m stacks.state_backend [URL]   # exit 0: fits; 2: one line saying why not
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from usdr_common.errors import InputError
from usdr_common.strict_yaml import read_yaml

from stacks.regions import Catalogue, load_catalogue

ROOT = Path(__file__).resolve().parents[1]
STATE_PROFILE = "usdr-state"
STATE_REALM = "oc1"
# OCI's S3 Compatibility API: `<namespace>.compat.objectstorage.<region>.oraclecloud.com`
# (docs.oracle.com/iaas/Content/Object/Tasks/s3compatibleapi.htm, "Amazon S3 Compatibility API").
_ENDPOINT = re.compile(
    r"(?:https://)?(?P<namespace>[a-z0-9]+)\.compat\.objectstorage\.(?P<region>[a-z0-9-]+)\.oraclecloud\.com/?"
)
EXIT_BAD = 2


def problem(url: str, catalogue: Catalogue | None = None) -> str | None:
    """Why `url` is not a state backend this project may use (None when it is)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3" or not parts.netloc:
        return f"{url!r} is not an s3:// bucket URL (docs/state-backend.md)"
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return f"{parts.netloc}: its query string cannot be read"
    repeated = sorted(k for k, v in query.items() if len(v) > 1)
    if repeated:
        return f"{parts.netloc}: {', '.join(repeated)} given more than once"
    one = {k: v[0] for k, v in query.items()}
    endpoint = one.get("endpoint", "")
    match = _ENDPOINT.fullmatch(endpoint)
    if match is None:
        return (
            f"{parts.netloc}: endpoint {endpoint or '(none)'} is not OCI's S3 API "
            "(<namespace>.compat.objectstorage.<region>.oraclecloud.com)"
        )
    region = match["region"]
    decision = (catalogue or load_catalogue()).decide(region, realm=STATE_REALM)
    if not decision.allowed:
        return f"{parts.netloc}: the state would live outside the approved US regions: {decision.reason}"
    if one.get("region") != region:
        return f"{parts.netloc}: region={one.get('region', '(none)')} is not the endpoint's region {region}"
    if one.get("s3ForcePathStyle", "").lower() != "true":
        return f"{parts.netloc}: s3ForcePathStyle=true is required (OCI serves path-style only)"
    if one.get("profile") != STATE_PROFILE:
        return (
            f"{parts.netloc}: profile={one.get('profile', '(none)')}; the state's keys come from "
            f"profile={STATE_PROFILE}, never from AWS_ACCESS_KEY_ID (docs/state-backend.md)"
        )
    return None


def pinned_url(project_file: Path = ROOT / "Pulumi.yaml") -> str | None:
    """Pulumi.yaml's `backend.url`, or None."""
    doc = read_yaml(project_file)
    backend = doc.get("backend") if isinstance(doc, dict) else None
    url = backend.get("url") if isinstance(backend, dict) else None
    return url if isinstance(url, str) and url else None


def effective_url(
    environ: dict[str, str] | None = None, project_file: Path = ROOT / "Pulumi.yaml"
) -> tuple[str | None, str]:
    """(URL, where it comes from) as the CLI chooses it: PULUMI_BACKEND_URL, then Pulumi.yaml."""
    env = os.environ if environ is None else environ
    if env.get("PULUMI_BACKEND_URL"):
        return env["PULUMI_BACKEND_URL"], "PULUMI_BACKEND_URL"
    return pinned_url(project_file), f"{project_file.name} backend.url"


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m stacks.state_backend [URL]", file=sys.stderr)
        return EXIT_BAD
    try:
        url, source = (argv[0], "the URL given") if argv else effective_url()
    except InputError as exc:
        print(f"state backend: {exc}", file=sys.stderr)
        return EXIT_BAD
    if url is None:
        print(f"state backend: {source} is not set (docs/state-backend.md)", file=sys.stderr)
        return EXIT_BAD
    why = problem(url)
    if why is not None:
        print(f"state backend ({source}): {why}", file=sys.stderr)
        return EXIT_BAD
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
