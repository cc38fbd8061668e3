"""The Pulumi program's stack-level code: settings, providers, the estate.

The region catalogue and the strict YAML reader live in the policy pack's folder
(`policies/usdr_common`, see its docstring) because a published pack carries only that folder.
The program imports them as `usdr_common`; this registers that package from this checkout's
pack folder, by path, so the program runs under the Pulumi CLI with nothing else on sys.path
and without preflight, and only the name `usdr_common` (not the pack's other modules) becomes
importable. Where `usdr_common` is already imported (the pack's own tests put its folder on
sys.path first), the module already loaded is used: it must be this checkout's.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

COMMON_DIR = Path(__file__).resolve().parent.parent / "policies" / "usdr_common"


def _register_common() -> None:
    loaded = sys.modules.get("usdr_common")
    if loaded is not None:
        where = Path(getattr(loaded, "__file__", "") or "").resolve().parent
        if where != COMMON_DIR:
            raise ImportError(f"usdr_common is already imported from {where}, not from {COMMON_DIR}")
        return
    spec = importlib.util.spec_from_file_location(
        "usdr_common", COMMON_DIR / "__init__.py", submodule_search_locations=[str(COMMON_DIR)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - a file that exists always has a spec
        raise ImportError(f"cannot load {COMMON_DIR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["usdr_common"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["usdr_common"]
        raise


_register_common()
