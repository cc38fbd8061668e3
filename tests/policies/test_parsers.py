"""The small parsers policies stand on: IAM statements, S3 documents, endpoints, props."""

from __future__ import annotations

import pytest
from pack_config import parse_config
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy
from residency.iam_statements import Subject, judge, parse_subjects
from resource_props import UNKNOWN, get, normalise_endpoint, plain
from s3_policy_document import SENSITIVE_ACTIONS, DocumentError, parse_policy


@pytest.mark.parametrize(
    ("text", "subjects"),
    [
        ("group A", [Subject("group", "A")]),
        ("group A, group B", [Subject("group", "A"), Subject("group", "B")]),
        ("group A, B", [Subject("group", "A"), Subject("group", "B")]),
        ("group 'Default'/'Admins'", [Subject("group", "Admins")]),
        ("group Default/Admins", [Subject("group", "Admins")]),
        ("group id ocid1.group.oc1..aaa", [Subject("group", "ocid1.group.oc1..aaa")]),
        ("dynamic-group fn", [Subject("dynamic-group", "fn")]),
        ("any-user", [Subject("any-user", "")]),
        ("service objectstorage-us-ashburn-1", [Subject("service", "objectstorage-us-ashburn-1")]),
        ("everyone", None),
        ("group A,", None),
    ],
)
def test_parse_subjects(text: str, subjects: list[Subject] | None) -> None:
    assert parse_subjects(text) == subjects


def test_statement_verbs() -> None:
    cfg = parse_config({"accessTeam": {"admins": ["admins"], "operators": ["ops"]}})
    assert not list(judge("Define tenancy Other as ocid1.tenancy.oc1..aaa", cfg))
    assert list(judge("Endorse group outsiders to manage buckets in tenancy Other", cfg))
    assert not list(judge("endorse group ops to read buckets in tenancy Other", cfg))
    assert list(judge("ALLOW ANY-GROUP TO READ ALL-RESOURCES IN TENANCY", cfg))
    assert not list(
        judge("Allow group ADMINS to manage all-resources in tenancy", cfg)
    )  # names are case-insensitive
    none = parse_config({})
    assert list(judge("Allow group admins to read buckets in tenancy", none))  # no access team: nobody


def test_s3_document_wildcards_and_not_action() -> None:
    (st,) = parse_policy('{"Statement": {"Effect": "Allow", "Principal": "*", "NotAction": "s3:Get*"}}')
    assert st.everyone and "s3:PutObject" in st.grants(SENSITIVE_ACTIONS)
    (st,) = parse_policy({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["a"]}, "Action": "*"}]})
    assert st.grants(SENSITIVE_ACTIONS) == SENSITIVE_ACTIONS and not st.everyone
    (st,) = parse_policy({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": ["S3:DELETE*"]}]})
    assert "s3:DeleteObjectVersion" in st.grants(SENSITIVE_ACTIONS)
    for bad in ("not json", '{"Statement": [{"Effect": "Maybe"}]}', '["x"]', UNKNOWN):
        with pytest.raises(DocumentError):
            parse_policy(bad)


def test_endpoints_normalise() -> None:
    assert normalise_endpoint("HTTPS://Objects.Example.NET/") == "https://objects.example.net"
    assert normalise_endpoint("objects.example.net:443") == "https://objects.example.net"
    assert normalise_endpoint("http://minio:9000/path") == "http://minio:9000"


def test_plain_replaces_unknowns_and_keeps_floats() -> None:
    props = plain(
        unknown_checking_proxy({"a": {"b": [UNKNOWN_STRING_VALUE, 1.0]}, "c": UNKNOWN_STRING_VALUE})
    )
    assert props == {"a": {"b": [UNKNOWN, 1.0]}, "c": UNKNOWN}
    assert (
        get(props, "a", "b", 0) is UNKNOWN
        and get(props, "a", "x", 0) is None
        and get(props, "c", "d") is UNKNOWN
    )
