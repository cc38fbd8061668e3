"""Stack references answered offline from files, as `pulumi stack output --json` or
`pulumi stack export` wrote them (`--stack-outputs ORG/PROJECT/STACK=FILE`, repeatable).

The engine reads a `pulumi:pulumi:StackReference` as a resource whose state is
`{name, outputs, secretOutputNames}` (sdk/python/lib/pulumi/stack_reference.py); the SDK marks
an output secret when its name is in `secretOutputNames`. Here:

* `stack output --json` prints secret values as the text `[secret]` (without
  `--show-secrets`): such an output is secret and its value stays the placeholder.
* `stack export` holds the Stack resource's `outputs`, a secret as the wire secret object
  (`ciphertext` without a passphrase, `plaintext` when exported with `--show-secrets`): secret.
* A reference with no file is bad input naming the reference and the option.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflight.engine.values import _SECRET_SIG, _SIG
from preflight.errors import BadInput
from preflight.project import SECRET_PLACEHOLDER, read_json

STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
OPTION = "--stack-outputs"


@dataclass(frozen=True)
class StackOutputs:
    outputs: dict[str, Any]
    secret_names: tuple[str, ...]


def parse_spec(spec: str) -> tuple[str, Path]:
    ref, sep, file = spec.partition("=")
    if not sep or not ref.strip() or not file.strip():
        raise BadInput(f"{OPTION} {spec}: expected ORG/PROJECT/STACK=FILE")
    return ref.strip(), Path(file.strip())


def load(specs: list[str]) -> dict[str, StackOutputs]:
    answers: dict[str, StackOutputs] = {}
    for spec in specs:
        ref, path = parse_spec(spec)
        data = read_json(path, f"{OPTION} {ref}: {path}")  # bounded: size, depth, no FIFO
        answers[ref] = _outputs_of(data, ref, path)
    return answers


def _outputs_of(data: Any, ref: str, path: Path) -> StackOutputs:
    if not isinstance(data, dict):
        raise BadInput(f"{OPTION} {ref}: {path}: expected a JSON object of outputs or a stack export")
    if "deployment" in data:  # pulumi stack export
        resources = (data.get("deployment") or {}).get("resources") or []
        stack = next(
            (r for r in resources if isinstance(r, dict) and r.get("type") == "pulumi:pulumi:Stack"), None
        )
        if stack is None:
            raise BadInput(f"{OPTION} {ref}: {path}: the export holds no pulumi:pulumi:Stack resource")
        raw = stack.get("outputs") or {}
        outputs: dict[str, Any] = {}
        secret: list[str] = []
        for name, value in raw.items():
            if isinstance(value, dict) and value.get(_SIG) == _SECRET_SIG:
                secret.append(name)
                plaintext = value.get("plaintext")
                outputs[name] = json.loads(plaintext) if isinstance(plaintext, str) else SECRET_PLACEHOLDER
            else:
                outputs[name] = value
        return StackOutputs(outputs, tuple(secret))
    secret = [name for name, value in data.items() if value == SECRET_PLACEHOLDER]
    return StackOutputs(dict(data), tuple(secret))


def missing(ref: str) -> BadInput:
    return BadInput(
        f"stack reference {ref} has no outputs offline: give them with {OPTION} {ref}=FILE "
        "(pulumi stack output --json or pulumi stack export)"
    )
