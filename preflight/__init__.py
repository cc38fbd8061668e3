"""preflight: the offline plan and policy gate for Pulumi Python projects (see preflight/cli.py)."""

__version__ = "0.1.0"
