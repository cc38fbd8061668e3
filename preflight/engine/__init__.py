"""The Pulumi engine as preflight emulates it, one room per idea.

A program runs for real (its own `main:`, its own imports), under a monitor that stands in for
the engine: what the engine would register, the URNs it would compute, the default providers
it would create, the config it would pass. Each module says one thing:

* `values`: the wire encoding of property values (secrets, unknowns, resource refs) as plain data.
* `urns`: engine-style URNs and the deterministic mock ids.
* `monitor`: the resource monitor (RecordingMonitor) and the engine's log service.
* `run`: one program run in this process, as the Python language host runs it.
* `result`: what a run produced (SynthResult), as it is saved and compared.
* `child`: the run in a child interpreter that streams its records back.

`preflight.synth` is the facade the rest of preflight imports.
"""
