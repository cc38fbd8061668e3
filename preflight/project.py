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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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


@dataclass(frozen=True)
class StackConfig:
    source: Path  # the stack file that was read (or the --config-file)
    values: Mapping[str, Any]  # "ns:key" -> structured value (secrets replaced by the placeholder)
    secret_keys: tuple[str, ...]

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


class _Loader(yaml.SafeLoader):
    """YAML as Pulumi (Go, YAML 1.2) reads it: no dates, only true/false are booleans,
    and a duplicate key is an error instead of the last one silently winning."""


# Copy the resolvers so editing them does not change PyYAML's SafeLoader for everyone else.
_Loader.yaml_implicit_resolvers = {
    ch: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"unhashable key {key!r}", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path, shown: str | None = None) -> Any:
    """Parse one YAML file; any problem is a one-line BadInput `<file>[:line:col]: ...`."""
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{shown}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{shown}: cannot read: {exc}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x) or str(exc)
        raise BadInput(f"{where}: YAML error: {what}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{shown}: YAML error: {' '.join(str(exc).split())}") from None


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
    if not isinstance(raw_config, Mapping):
        raise BadInput(f"{where}: config: must be a mapping")
    for key, spec in raw_config.items():
        full = _full_key(str(key), name)
        if isinstance(spec, Mapping):
            for field_name in ("value", "default"):
                if field_name in spec:
                    defaults[full] = spec[field_name]
                    break
        else:
            defaults[full] = spec
    return Project(dir=project_dir, name=name.strip(), main=main, pulumi_yaml=pulumi_yaml, defaults=defaults)


def _full_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _unsecret(value: Any) -> tuple[Any, bool]:
    """Replace every `{secure: ...}` inside `value` by the placeholder; report whether any was found."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        out: dict[str, Any] = {}
        found = False
        for k, v in value.items():
            out[str(k)], f = _unsecret(v)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_unsecret(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def stack_file(project: Project, stack: str) -> Path:
    for suffix in ("yaml", "yml"):
        candidate = project.dir / f"Pulumi.{stack}.{suffix}"
        if candidate.is_file():
            return candidate
    return project.dir / f"Pulumi.{stack}.yaml"


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
    values: dict[str, Any] = dict(project.defaults)
    secret_keys: list[str] = []
    for key, value in config.items():
        if not isinstance(key, str) or not key:
            raise BadInput(f"{where}: config: key {key!r} must be text")
        full = _full_key(key, project.name)
        clean, secret = _unsecret(value)
        values[full] = clean
        if secret:
            secret_keys.append(full)
    return StackConfig(source=path, values=values, secret_keys=tuple(secret_keys))
