"""`admin_ingress._covers_internet` (integer ranges) against the `ipaddress` set arithmetic it
replaced, on the forms an attacker's sources take and on random unions.

The reference below is the previous implementation, verbatim: collapse the sources, and count
the public addresses they overlap (two CIDRs nest or are disjoint). Both must agree on every
input; the hand-picked cases also pin the answer itself, so a reference and a fast path wrong
the same way would still fail.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from security.admin_ingress import _PUBLIC, _SPECIAL_V4, _covers_internet

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _reference(sources: list[Network]) -> bool:
    for version, public in _PUBLIC.items():
        union: list[Any] = list(ipaddress.collapse_addresses([n for n in sources if n.version == version]))  # type: ignore[type-var]
        if not union:
            continue
        covered = sum(min(u.num_addresses, p.num_addresses) for u in union for p in public if u.overlaps(p))
        if covered == sum(p.num_addresses for p in public):
            return True
    return False


def _nets(*texts: str) -> list[Network]:
    return [ipaddress.ip_network(t, strict=False) for t in texts]


EVERY_SLASH8 = [f"{i}.0.0.0/8" for i in range(256)]
ALL_BUT_TEN = [n for n in EVERY_SLASH8 if n != "10.0.0.0/8"]
PUBLIC_BLOCKS = [str(n) for n in _PUBLIC[4]]

CASES = [
    (["0.0.0.0/0"], True),
    (["::/0"], True),
    (["0.0.0.0/1", "128.0.0.0/1"], True),
    (["0.0.0.0/1"], False),
    (["::/1", "8000::/1"], True),
    (["2000::/3"], True),
    (["2000::/4"], False),
    (["2000::/4", "3000::/4"], True),
    (EVERY_SLASH8, True),
    (ALL_BUT_TEN, True),  # 10/8 is private: the rest is still every public address
    ([n for n in EVERY_SLASH8 if n != "8.0.0.0/8"], False),
    (PUBLIC_BLOCKS, True),  # exactly the public space, no special range at all
    (PUBLIC_BLOCKS[1:], False),
    (PUBLIC_BLOCKS[:-1], False),
    ([*PUBLIC_BLOCKS[1:], str(next(_PUBLIC[4][0].subnets()))], False),  # half of the first block
    ([*PUBLIC_BLOCKS[1:], *map(str, _PUBLIC[4][0].subnets())], True),  # both halves of it
    ([str(s) for s in _SPECIAL_V4], False),
    (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], False),
    (["203.0.113.0/24", "198.51.100.0/24"], False),
    ([], False),
    (["0.0.0.0/0", "::/1"], True),  # IPv4 alone suffices
]


@pytest.mark.parametrize(("sources", "expected"), CASES, ids=range(len(CASES)))
def test_known_unions(sources: list[str], expected: bool) -> None:
    nets = _nets(*sources)
    assert _covers_internet(nets) is expected
    assert _reference(nets) is expected


def _v4(prefix_lo: int) -> st.SearchStrategy[Network]:
    return st.builds(
        lambda addr, prefix: ipaddress.IPv4Network((addr, prefix), strict=False),
        st.integers(0, 2**32 - 1),
        st.integers(prefix_lo, 32),
    )


def _around_public() -> st.SearchStrategy[list[Network]]:
    """The public blocks, some dropped, some split, plus random neighbours: near the boundary."""
    blocks = list(_PUBLIC[4])

    def build(keep: list[bool], split: list[bool], extra: list[Network]) -> list[Network]:
        out: list[Network] = []
        for block, k, s in zip(blocks, keep, split, strict=True):
            if not k:
                continue
            out.extend(block.subnets() if s and block.prefixlen < 32 else [block])
        return out + extra

    n = len(blocks)
    return st.builds(
        build,
        st.just([True] * n) | st.lists(st.sampled_from([True, True, True, False]), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(_v4(1), max_size=4),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(_v4(0), max_size=12) | st.lists(_v4(1), min_size=1, max_size=40) | _around_public())
def test_random_unions_agree_with_the_set_arithmetic(sources: list[Network]) -> None:
    assert _covers_internet(sources) is _reference(sources)
