"""A Pulumi Python project on disk and one stack's configuration, read the way the CLI reads them.

Nothing here knows about this repository's settings model: preflight runs any Pulumi Python
project. What it reproduces from the engine:

* `Pulumi.yaml` names the project (`name:`), the runtime (must be python) and the program
  (`main:`, a file or a directory holding `__main__.py`; default `__main__.py`).
* `Pulumi.<stack>.yaml` (or `--config-file`, which replaces it like `pulumi --config-file`)
  holds `config:`. Keys without a namespace get the project's (`key` -> `<project>:key`).
  Project-level defaults from `Pulumi.yaml` `config:` apply when the stack does not set a key.
* Values reach the program as text: strings as they are, booleans `true`/`false`, numbers in
  decimal, lists and maps as compact JSON with sorted keys (the engine marshals Go maps).
* `secure:` values cannot be decrypted offline. They become the placeholder `[secret]` and
  their keys are secret keys, so `Config.require_secret` still works and nothing that is
  printed can contain the ciphertext, let alone the secret.

Every error is a `BadInput` with one line naming the file (and line, for YAML errors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight import common
from preflight.errors import BadInput

SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 - the mask, not a secret
_STACK_KEYS = frozenset({"config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"})


@dataclass(frozen=True)
class Project:
    dir: Path  # absolute
    name: str
    main: Path  # the program file (absolute)
    pulumi_yaml: Path
    defaults: Mapping[str, Any] = field(default_factory=dict)  # project-level config defaults
    # Where the Pulumi.<stack>.yaml files are: Pulumi.yaml's stackConfigDir (or its older
    # spelling `config: <dir>`), relative to the project, as the CLI joins it; else the project.
    stack_config_dir: Path | None = None
    # Pulumi.yaml `runtime.options` (toolchain, virtualenv, ...): which interpreter runs the
    # program (preflight/engine/interpreter.py).
    runtime_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackConfig:
    source: Path  # the stack file that was read (or the --config-file)
    values: Mapping[str, Any]  # "ns:key" -> structured value (secrets replaced by the placeholder)
    secret_keys: tuple[str, ...]
    # Plaintexts of the `secure:` values decrypted with the passphrase (config_secrets.py):
    # every output masks them. Empty when secrets stayed opaque.
    secret_values: tuple[str, ...] = ()

    def wire(self) -> dict[str, str]:
        """The config as the engine hands it to a program: every value as text."""
        return {k: wire_value(v) for k, v in self.values.items()}

    def for_package(self, package: str) -> dict[str, Any]:
        """Config of one provider package (`oci:region` -> {"region": ...}): a default provider's inputs."""
        prefix = f"{package}:"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}


def wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


# --------------------------------------------------------------------------- YAML
#
# The strict, bounded reader is the repository's one (policies/usdr_common/strict_yaml.py, shared
# with the program and the pack): YAML as Pulumi's Go parser reads it (no dates, only true/false
# are booleans, a duplicate key is an error), at most MAX_FILE_BYTES from a regular file, nesting
# and alias expansion bounded. Here its one-line InputError becomes BadInput (exit 2).

if TYPE_CHECKING:
    from usdr_common import strict_yaml as _strict
else:
    _strict = common.load("strict_yaml")

MAX_FILE_BYTES = _strict.MAX_FILE_BYTES
MAX_DEPTH = _strict.MAX_DEPTH
MAX_EXPANDED_NODES = _strict.MAX_EXPANDED_NODES


def read_bounded(path: Path, shown: str | None = None) -> str:
    """A regular file's text, at most MAX_FILE_BYTES; anything else is a one-line BadInput.

    The file is opened non-blocking and checked with fstat before a byte is read, so a FIFO
    (which would wait for a writer) or a device (/dev/zero never ends) is refused at once.
    """
    try:
        return _strict.read_bounded(path, shown)
    except _strict.InputError as exc:
        raise BadInput(exc.message) from None


def read_yaml(path: Path, shown: str | None = None) -> Any:
    """Parse one YAML file; any problem is a one-line BadInput `<file>[:line:col]: ...`.

    Bounded: size (read_bounded), nesting depth and alias expansion."""
    try:
        return _strict.read_yaml(path, shown)
    except _strict.InputError as exc:
        raise BadInput(exc.message) from None


def parse_yaml(text: str, shown: str) -> Any:
    try:
        return _strict.parse_yaml(text, shown)
    except _strict.InputError as exc:
        raise BadInput(exc.message) from None


def read_json(path: Path, shown: str | None = None) -> Any:
    """Parse one JSON file, bounded like read_yaml; any problem is a one-line BadInput."""
    shown = shown or str(path)
    text = read_bounded(path, shown)
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadInput(f"{shown}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise BadInput(f"{shown}: not JSON: {exc}") from None
    _json_depth(data, shown)
    return data


def _json_depth(data: Any, shown: str) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadInput(f"{shown}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


# --------------------------------------------------------------------------- project


def _shown(path: Path) -> str:
    """Paths in messages: relative to the working directory when that is shorter."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_project(project_dir: Path) -> Project:
    project_dir = Path(project_dir).resolve()
    if not project_dir.is_dir():
        raise BadInput(f"{_shown(project_dir)}: not a directory")
    pulumi_yaml = next(
        (project_dir / n for n in ("Pulumi.yaml", "Pulumi.yml") if (project_dir / n).is_file()), None
    )
    if pulumi_yaml is None:
        raise BadInput(f"{_shown(project_dir)}: not a Pulumi project (no Pulumi.yaml); use --project-dir")
    doc = read_yaml(pulumi_yaml, _shown(pulumi_yaml))
    where = _shown(pulumi_yaml)
    if not isinstance(doc, Mapping):
        raise BadInput(f"{where}: must be a mapping with name: and runtime:")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadInput(f"{where}: name: required")
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if runtime_name != "python":
        raise BadInput(
            f"{where}: runtime: {runtime_name!r} is not python; preflight runs Pulumi Python programs"
        )
    main_value = doc.get("main")
    if main_value is not None and not isinstance(main_value, str):
        raise BadInput(f"{where}: main: must be a path")
    main = (project_dir / (main_value or "__main__.py")).resolve()
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise BadInput(f"{where}: main: program {_shown(main)} does not exist")
    defaults: dict[str, Any] = {}
    raw_config = doc.get("config") or {}
    config_dir = doc.get("stackConfigDir")
    # sdk/go/common/workspace/project.go RewriteConfigPathIntoStackConfigDir: `config: <dir>` is
    # the older spelling of stackConfigDir; both at once is an error.
    if isinstance(raw_config, str):
        if config_dir is not None:
            raise BadInput(f"{where}: config: a path and stackConfigDir together; use only stackConfigDir")
        config_dir, raw_config = raw_config, {}
    if config_dir is not None and (not isinstance(config_dir, str) or not config_dir.strip()):
        raise BadInput(f"{where}: stackConfigDir: must be a directory path")
    if not isinstance(raw_config, Mapping):
        raise BadInput(f"{where}: config: must be a mapping")
    for key, spec in raw_config.items():
        full = _full_key(str(key), name, where)
        if isinstance(spec, Mapping):
            for field_name in ("value", "default"):
                if field_name in spec:
                    defaults[full] = spec[field_name]
                    break
        else:
            defaults[full] = spec
    return Project(
        dir=project_dir,
        name=name.strip(),
        main=main,
        pulumi_yaml=pulumi_yaml,
        defaults=defaults,
        # filepath.Join(dir, stackConfigDir): an absolute value is joined too, as Go joins it.
        stack_config_dir=(project_dir / config_dir.strip().lstrip("/")) if config_dir else None,
        runtime_options=_runtime_options(runtime, where),
    )


def _runtime_options(runtime: Any, where: str) -> dict[str, Any]:
    options = runtime.get("options") if isinstance(runtime, Mapping) else None
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise BadInput(f"{where}: runtime.options: must be a mapping")
    for key in ("toolchain", "virtualenv"):
        if key in options and (not isinstance(options[key], str) or not options[key].strip()):
            raise BadInput(f"{where}: runtime.options.{key}: must be text")
    toolchain = options.get("toolchain", "pip")
    if toolchain not in ("pip", "poetry", "uv"):
        # sdk/python/toolchain: the language host knows these three.
        raise BadInput(f"{where}: runtime.options.toolchain: {toolchain!r} is not pip, poetry or uv")
    return dict(options)


def _full_key(key: str, project: str, where: str) -> str:
    """A config key as the CLI parses it (sdk/go/common/resource/config/key.go ParseKey):
    `ns:name`; `ns:config:name`, the older spelling of the same key; a bare key in the project's
    namespace (project and stack files only, as the CLI qualifies them). Anything else is an error."""
    colons = key.count(":")
    if colons == 0:
        return f"{project}:{key}"
    if colons == 1:
        return key
    parts = key.split(":")
    if colons == 2 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise BadInput(
        f"{where}: config: {key}: not a configuration key the CLI can parse (use <namespace>:<name>)"
    )


def _unsecret(
    value: Any, decrypt: Callable[[Any], str] | None = None, plain: list[str] | None = None
) -> tuple[Any, bool]:
    """Every `{secure: ...}` inside `value` decrypted (`decrypt`, its plaintext added to `plain`)
    or, without a decrypter, replaced by the placeholder; and whether any was found."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            if decrypt is None:
                return SECRET_PLACEHOLDER, True
            text = decrypt(value["secure"])
            if plain is not None:
                plain.append(text)
            return text, True
        out: dict[str, Any] = {}
        found = False
        for k, v in value.items():
            out[str(k)], f = _unsecret(v, decrypt, plain)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_unsecret(v, decrypt, plain) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def stack_file(project: Project, stack: str) -> Path:
    """Pulumi.<stack>.yaml (or .yml) in the stack config dir, as the CLI finds it."""
    directory = project.stack_config_dir or project.dir
    for suffix in ("yaml", "yml"):
        candidate = directory / f"Pulumi.{stack}.{suffix}"
        if candidate.is_file():
            return candidate
    return directory / f"Pulumi.{stack}.yaml"


def load_stack_config(project: Project, stack: str, config_file: Path | None = None) -> StackConfig:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}", stack or ""):
        raise BadInput(f"--stack: {stack!r} is not a valid stack name")
    path = Path(config_file).resolve() if config_file else stack_file(project, stack.split("/")[-1])
    where = _shown(path)
    if not path.is_file():
        hint = "" if config_file else f" (stack {stack!r}; create it or pass --config-file)"
        raise BadInput(f"{where}: no such stack file{hint}")
    doc = read_yaml(path, where)
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise BadInput(f"{where}: must be a mapping with a config: section")
    unknown = sorted(str(k) for k in doc if k not in _STACK_KEYS)
    if unknown:
        raise BadInput(f"{where}: {unknown[0]}: unknown top-level key")
    if doc.get("environment"):
        raise BadInput(f"{where}: environment: Pulumi ESC environments cannot be resolved offline")
    config = doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise BadInput(f"{where}: config: must be a mapping")
    from preflight.config_secrets import decrypter_for

    decrypter = decrypter_for(doc, where) if _has_secure(config) else None
    values: dict[str, Any] = dict(project.defaults)
    secret_keys: list[str] = []
    plain: list[str] = []
    for key, value in config.items():
        if not isinstance(key, str) or not key:
            raise BadInput(f"{where}: config: key {key!r} must be text")
        full = _full_key(key, project.name, where)
        decrypt = (lambda v, k=key: decrypter.decrypt(v, k)) if decrypter is not None else None
        clean, secret = _unsecret(value, decrypt, plain)
        values[full] = clean
        if secret:
            secret_keys.append(full)
    return StackConfig(source=path, values=values, secret_keys=tuple(secret_keys), secret_values=tuple(plain))


def _has_secure(value: Any) -> bool:
    if isinstance(value, Mapping):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False
