"""The repository's shared modules (`policies/usdr_common`), loaded for preflight under a private name.

The region catalogue and the strict YAML reader live in the policy pack's folder, where a
published pack carries them; the program imports them as `usdr_common`. preflight loads the
same files as `preflight._usdr_common` instead: preflight runs programs in its own interpreter
(the engine child), and a program it runs, such as a base checkout in `diff`, must import its
own `usdr_common`, never find preflight's already in sys.modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

COMMON_DIR = Path(__file__).resolve().parents[1] / "policies" / "usdr_common"
_NAME = "preflight._usdr_common"


def _package() -> ModuleType:
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(
        _NAME, COMMON_DIR / "__init__.py", submodule_search_locations=[str(COMMON_DIR)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"preflight: cannot load the shared modules in {COMMON_DIR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_NAME]
        raise
    return module


def load(name: str) -> ModuleType:
    """`usdr_common.<name>` under preflight's private name. For the types, callers import
    `usdr_common.<name>` under TYPE_CHECKING (mypy finds it on mypy_path) and this at run time."""
    _package()
    return importlib.import_module(f"{_NAME}.{name}")
