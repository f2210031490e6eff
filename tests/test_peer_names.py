"""Peer contract, docs/security.md "Names are never paths": a refused package or resource name
is refused with exit 3 and a suggestion of a valid name; the suggestion is itself accepted
(`index.html` once suggested `index.html`)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.errors import SchemaError
from opengov.paths import RESERVED_PACKAGE_NAMES, check_name

NAMES = st.one_of(
    st.sampled_from(sorted(RESERVED_PACKAGE_NAMES)).map(lambda n: n.upper() if len(n) % 2 else n),
    st.text(max_size=120),
    st.text(alphabet="abcINDEX./\\-_ .\u2215\uff0e\u2024", max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(NAMES, st.booleans())
def test_a_refused_name_suggests_a_name_that_is_accepted(name: str, package: bool) -> None:
    try:
        check_name(name, "datapackage.json: the package name", package=package)
    except SchemaError as refused:
        found = re.search(r"\(for example '([^']*)'\)$", str(refused))
        assert found, str(refused)
        assert check_name(found.group(1), "suggestion", package=package) == found.group(1)


@pytest.mark.parametrize("name", sorted(RESERVED_PACKAGE_NAMES))
def test_portal_file_names_are_refused_with_another_suggestion(name: str) -> None:
    with pytest.raises(SchemaError, match="portal file") as refused:
        check_name(name, "package", package=True)
    assert f"(for example {name!r})" not in str(refused.value)
