"""What the Pulumi program, the CrossGuard pack and preflight all need, in one home.

* `regions` + `regions.yaml`: the OCI region catalogue, the one list of regions.
* `strict_yaml`: YAML read the way the Pulumi CLI reads it (YAML 1.2 booleans, no dates, a
  duplicate key is an error), bounded in size, depth and alias expansion.
* `errors`: `InputError`, the one error type of both: a one-line message naming the file.

It lives inside the pack's folder because `pulumi policy publish` uploads only that folder
and a published pack is installed without the repository (docs/policy-pack.md). It depends
on the standard library and PyYAML only, imports nothing from `stacks/` or `preflight/`, and
its modules import each other relatively, so each user can load it under the name it needs:

* the pack: `usdr_common` (the CLI runs the pack with its folder on sys.path);
* the program: `usdr_common`, registered from this folder by `stacks/__init__.py`;
* preflight: a private name (`preflight/common.py`), so a program preflight runs, such as a
  base checkout in `diff`, still imports its own copy.
"""
