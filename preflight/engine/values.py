"""Property values off the wire as plain data: secrets masked, unknowns marked, refs as ids.

The signatures are the engine's (sdk/go/common/resource/properties.go, the Python SDK's
`pulumi.runtime.rpc`).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from preflight.project import SECRET_PLACEHOLDER

UNKNOWN_PLACEHOLDER = "[unknown]"

# Wire signatures of the property encoding (sdk/go/common/resource/properties.go).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a wire signature
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def plain(value: Any) -> Any:
    """A protobuf property value as plain JSON data: secrets masked, unknowns marked, refs as ids."""
    if isinstance(value, str):
        return UNKNOWN_PLACEHOLDER if value == _UNKNOWN else value
    if isinstance(value, struct_pb2.Struct):
        if _SIG in value:
            return _special(value)
        out = {}
        for k, v in value.items():
            p = plain(v)
            if p is not None:  # like the SDK: a null property is an absent one
                out[k] = p
        return out
    if isinstance(value, struct_pb2.ListValue):
        return [plain(v) for v in value]
    return value  # float, bool, None


def _special(value: struct_pb2.Struct) -> Any:
    sig = value[_SIG]
    if sig == _SECRET_SIG:
        return SECRET_PLACEHOLDER
    if sig == _RESOURCE_SIG:
        ident = value.get("id", "")
        return plain(ident) if ident else value["urn"]
    if sig == _OUTPUT_SIG:
        if value.get("secret"):
            return SECRET_PLACEHOLDER
        return plain(value["value"]) if "value" in value else UNKNOWN_PLACEHOLDER
    if sig == _ASSET_SIG:
        return {"asset": next((plain(value[k]) for k in ("path", "text", "uri") if k in value), None)}
    if sig == _ARCHIVE_SIG:
        return {"archive": next((plain(value[k]) for k in ("path", "uri", "assets") if k in value), None)}
    return {k: plain(v) for k, v in value.items() if k != _SIG}


def secret_fields(props: struct_pb2.Struct, names: Any) -> struct_pb2.Struct:
    """A copy of `props` with the top-level properties `names` wrapped as secrets on the wire,
    as the engine returns a resource's `additionalSecretOutputs`: the program then sees them
    as secret Outputs, and whatever it exports of them stays secret."""
    out = struct_pb2.Struct()
    out.CopyFrom(props)
    for name in names:
        if name not in out.fields:
            continue
        field = out.fields[name]
        struct = field.struct_value if field.HasField("struct_value") else None
        if struct is not None and _SIG in struct and struct[_SIG] == _SECRET_SIG:
            continue
        wrapped = struct_pb2.Value()
        wrapped.struct_value.fields[_SIG].string_value = _SECRET_SIG
        wrapped.struct_value.fields["value"].CopyFrom(field)
        out.fields[name].CopyFrom(wrapped)
    return out
