from __future__ import annotations

import inspect

from opengov import errors


def _error_classes() -> list[type[errors.OpengovError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.OpengovError) and cls is not errors.OpengovError
    ]


def test_every_error_class_has_its_own_exit_code() -> None:
    codes = [cls.exit_code for cls in _error_classes()]
    assert len(codes) == len(set(codes)), codes
    assert 2 not in codes  # click's usage errors
    assert 0 not in codes


def test_exit_code_table_documents_every_class() -> None:
    for cls in _error_classes():
        assert errors.EXIT_CODES[cls.exit_code] == cls.title


def test_pinned_codes() -> None:
    # Scripts depend on these numbers: changing one is a breaking change.
    assert errors.ValidationFailed.exit_code == 1
    assert errors.SchemaError.exit_code == 3
    assert errors.RulesError.exit_code == 4
    assert errors.UnclassifiedFields.exit_code == 5
    assert errors.InputError.exit_code == 6
    assert errors.PublishError.exit_code == 7
    assert errors.VerifyFailed.exit_code == 8
    assert errors.DisclosureBlocked.exit_code == 9
    assert errors.KeyMissing.exit_code == 10


def test_message_lists_details() -> None:
    err = errors.UnclassifiedFields("2 fields", details=["a.x", "a.y"])
    assert str(err) == "2 fields\n  - a.x\n  - a.y"
    assert err.to_dict()["exit_code"] == 5
