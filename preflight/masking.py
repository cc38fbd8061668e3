"""The one place preflight decides what may be shown: every output it writes goes through here.

Defence in depth on top of synthesis (which records every value the program marked secret as
the placeholder `[secret]`): the JSON report's resources, inputs and outputs, the text, Markdown
and SARIF reports, the Terraform-plan export and preflight's own stderr lines are all built from
values masked by this module, the same way in every format.

What is masked (to the placeholder `[secret]`, which itself stays as it is):
* values under secret keys: a path segment naming a password, passphrase, secret, private key,
  API key, token, credential, shared key or PSK (`adminPassword`, `private_key_pem`, `apiKey`);
  every scalar below such a key, whatever its type except booleans (`isSecret: false` is not one);
* the record's own `additionalSecretOutputs` (resource option; Pulumi marks those top-level
  output properties secret, sdk/python/lib/pulumi/resource.py `additional_secret_outputs`): under
  mocks outputs echo inputs, so the same-named input is masked too;
* values that merely look like credentials, anywhere, also inside free text (finding messages,
  program warnings): PEM private-key blocks (`-----BEGIN ... PRIVATE KEY-----`, RSA/EC/OPENSSH/
  ENCRYPTED and the PKCS#8 form; OCI API signing keys are PEM files), AWS access key ids
  (`AKIA`/`ASIA` + 16 upper-case letters or digits, the documented form of IAM key ids), GitHub
  tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), Slack tokens (`xox[abprs]-`).
What is deliberately not masked: OCIDs (`ocid1.<type>.oc1..<base32>` identify, not authenticate),
ARNs, CIDRs, certificates and public keys (`-----BEGIN CERTIFICATE-----`, `ssh-rsa ...`), and
OCI API key fingerprints (`aa:bb:...`, the MD5 of the *public* key, shown in the OCI console and
needed to review which key a provider uses). A 40-character AWS secret access key has no
recognisable shape; it is caught only under a secret key (`secretKey`, `aws:secretKey`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

from preflight.model import Finding, ResourceRecord

SECRET: Final = "[secret]"  # noqa: S105 - preflight.project.SECRET_PLACEHOLDER, the mask itself
_UNKNOWN: Final = "[unknown]"

SECRET_KEY: Final = re.compile(
    r"(pass(word|phrase|wd)|secret|private_?key|api_?key|token|credential|shared_?key|psk)", re.IGNORECASE
)
_CREDENTIAL: Final = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)"
    r"|(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"
    r"|(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}",
    re.DOTALL,
)

# A secret on the wire: {_special_sig_key: _special_secret_sig, "value": ...}
# (sdk/python/lib/pulumi/runtime/rpc.py); other signatures (assets, resource refs) are not secrets.
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a type tag, not a credential
_MIN_KNOWN: Final = 4  # a secret's copies are masked elsewhere only if it is this long ("1" is not)
T = TypeVar("T")


# Plaintexts of the run's decrypted `secure:` config (preflight/config_secrets.py), registered
# once the stack file is read: masked wherever they appear, in values and in free text, as the
# Pulumi CLI filters config secrets out of everything it prints.
_registered: frozenset[str] = frozenset()


def register_secret_values(values: Iterable[str]) -> None:
    global _registered
    _registered = _registered | {v for v in values if isinstance(v, str) and len(v) >= _MIN_KNOWN}


def registered_secret_values() -> frozenset[str]:
    return _registered


def is_secret_key(key: str) -> bool:
    """Does this property name (or any segment of a dotted/camel name) name a secret?"""
    return bool(SECRET_KEY.search(key))


def looks_like_credential(text: str) -> bool:
    return bool(_CREDENTIAL.search(text))


def mask_text(text: str) -> str:
    """Free text with every credential-looking substring and every registered secret replaced."""
    if not text:
        return text
    for value in sorted(_registered, key=len, reverse=True):
        text = text.replace(value, SECRET)
    return _CREDENTIAL.sub(SECRET, text)


def mask_value(value: Any, *, secret: bool = False, key: str = "") -> Any:
    """A masked copy of a JSON-like value (`secret`: everything below is under a secret key)."""
    secret = secret or (bool(key) and is_secret_key(key))
    if isinstance(value, Mapping):
        if value.get(_SIG_KEY) == _SECRET_SIG:  # a secret in the engine's wire form that escaped the synth
            return SECRET
        return {k: mask_value(v, secret=secret, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, secret=secret) for v in value]
    if value is None or isinstance(value, bool) or value in (SECRET, _UNKNOWN):
        return value
    if secret:
        return SECRET
    if isinstance(value, str):
        return mask_text(value)
    return value


def secret_output_names(record: ResourceRecord) -> set[str]:
    """The top-level properties the record's additionalSecretOutputs option marks secret."""
    names = record.options.get("additionalSecretOutputs") if record.options else None
    return {str(n) for n in names} if isinstance(names, list | tuple) else set()


def mask_shown(value: Any, *, secret: bool = False, known: frozenset[str] = frozenset()) -> Any:
    """One value shown on its own (a side of a PR diff's property change), masked like the rest."""
    shown = mask_value(value, secret=secret)
    return _mask_known(shown, known) if known else shown


def mask_properties(
    props: Mapping[str, Any], secret_names: Iterable[str] = (), known: frozenset[str] = frozenset()
) -> dict[str, Any]:
    names = set(secret_names)
    masked_props = {k: mask_value(v, secret=k in names, key=k) for k, v in props.items()}
    return _mask_known(masked_props, known) if known else masked_props


def _mask_known(value: Any, known: frozenset[str]) -> Any:
    """Leaves equal to a value known to be secret elsewhere (it travelled, e.g. into an export)."""
    if isinstance(value, Mapping):
        return {k: _mask_known(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_known(v, known) for v in value]
    return SECRET if isinstance(value, str) and value in known else value


def _leaves(value: Any, *, secret: bool, key: str = "") -> Iterable[str]:
    """The string leaves of `value` that are secret (under a secret key or marked so)."""
    secret = secret or (bool(key) and is_secret_key(key))
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _leaves(v, secret=secret, key=str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v, secret=secret)
    elif secret and isinstance(value, str) and len(value) >= _MIN_KNOWN and value not in (SECRET, _UNKNOWN):
        yield value


def known_secrets(records: Iterable[ResourceRecord]) -> frozenset[str]:
    """Plain values the records themselves say are secret: under `additionalSecretOutputs` names or
    secret keys. A copy of one elsewhere (a stack export of `bucket.bucket`, another resource's
    input) is masked too: the engine would carry the secret mark along the Output; mocks do not."""
    found: set[str] = set(_registered)
    for record in records:
        names = secret_output_names(record)
        for props in (record.inputs, record.outputs):
            for k, v in props.items():
                found.update(_leaves(v, secret=k in names, key=k))
    return frozenset(found)


def mask_record(record: ResourceRecord, known: frozenset[str] = frozenset()) -> ResourceRecord:
    """A copy of the record with inputs, outputs and options masked (the original, which the
    pack and checkov judge, is untouched)."""
    names = secret_output_names(record)
    return dataclasses.replace(
        record,
        inputs=mask_properties(record.inputs, names, known),
        outputs=mask_properties(record.outputs, names, known),
        options=mask_value(record.options),
    )


def mask_records(records: Iterable[ResourceRecord]) -> list[ResourceRecord]:
    listed = list(records)
    known = known_secrets(listed)
    return [mask_record(r, known) for r in listed]


def mask_finding(finding: Finding, known: frozenset[str] = frozenset()) -> Finding:
    message, name = mask_text(finding.message), mask_text(finding.name)
    for value in known:
        message = message.replace(value, SECRET)
    return dataclasses.replace(finding, message=message, name=name)


def mask_outputs(outputs: Mapping[str, Any], known: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Stack outputs: keys and shapes as the program exported them, values masked."""
    return mask_properties(outputs, (), known)


def masked(synth: T) -> T:
    """A SynthResult-like dataclass with resources, outputs and warnings masked."""
    fields = {f.name for f in dataclasses.fields(synth)}  # type: ignore[arg-type]
    records: list[ResourceRecord] = list(getattr(synth, "resources", []))
    known = known_secrets(records)
    changes: dict[str, Any] = {}
    if "resources" in fields:
        changes["resources"] = [mask_record(r, known) for r in records]
    if "outputs" in fields:
        changes["outputs"] = mask_outputs(getattr(synth, "outputs"), known)  # noqa: B009
    if "warnings" in fields:
        changes["warnings"] = [mask_text(w) for w in getattr(synth, "warnings")]  # noqa: B009
    return dataclasses.replace(synth, **changes)  # type: ignore[type-var]
