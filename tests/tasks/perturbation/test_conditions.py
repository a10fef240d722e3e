import pytest

from bftbio.tasks import parse_condition


def test_parse_condition():
    assert parse_condition("CBL+ctrl") == ("CBL",)
    assert parse_condition("ctrl+CBL") == ("CBL",)
    assert parse_condition("CBL+CNN1") == ("CBL", "CNN1")
    assert parse_condition("ctrl") == ()
    assert parse_condition("TP53_non-targeting", control="non-targeting", separator="_") == ("TP53",)
    with pytest.raises(ValueError, match="empty gene name"):
        parse_condition("CBL++CNN1")
