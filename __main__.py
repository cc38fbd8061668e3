"""Composition root: settings -> estate -> exports. Everything else lives in stacks/ and components/."""

import pulumi

from stacks.estate import build_estate, estate_exports
from stacks.settings import SettingsError, load_settings_from_pulumi

try:
    estate = build_estate(load_settings_from_pulumi())
except SettingsError as err:
    # RunError: the CLI prints the one-line-per-problem message without a Python traceback.
    raise pulumi.RunError(str(err)) from None

for key, value in estate_exports(estate).items():
    pulumi.export(key, value)
