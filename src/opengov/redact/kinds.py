"""The detector kinds' names, apart from the detectors.

The rules loader checks the names rules.yaml uses before any data is read, and an unchanged
re-publish loads rules.yaml without scanning anything: importing the detectors (numpy, pyarrow,
phonenumbers) for a list of names would cost it a third of its time. The detectors' registry
(`opengov.redact.detectors.registry`) is the truth; tests/test_detect.py checks these equal it.
"""

from __future__ import annotations

from collections.abc import Iterable

KIND_NAMES: tuple[str, ...] = (
    "personnummer",
    "samordningsnummer",
    "organisationsnummer",
    "email",
    "phone",
    "postcode",
    "name",
    "address",
    "handle",
)


def unknown_kinds(kinds: Iterable[str]) -> list[str]:
    """Unknown kind names, in the order given, each once (the rules loader reports them)."""
    unknown: list[str] = []
    for kind in kinds:
        if kind not in KIND_NAMES and kind not in unknown:
            unknown.append(kind)
    return unknown
