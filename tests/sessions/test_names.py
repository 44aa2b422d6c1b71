"""Display-name validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameserver.protocol.errors import ErrorCode, RequestError
from gameserver.sessions.names import validate_name


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("ada", "ada"), ("  ada lovelace ", "ada lovelace"), ("Zoë", "Zoë"), ("x" * 32, "x" * 32)],
)
def test_valid_names_are_trimmed(raw: str, clean: str) -> None:
    assert validate_name(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "x" * 33, "a\nb", "bell\x07", "rtl\u202e", 5, None])
def test_invalid_names_are_refused(raw: object) -> None:
    with pytest.raises(RequestError) as info:
        validate_name(raw)
    assert info.value.code is ErrorCode.INVALID_NAME


@given(st.text(max_size=60))
def test_any_text_is_either_a_clean_name_or_invalid_name(raw: str) -> None:
    try:
        name = validate_name(raw)
    except RequestError as error:
        assert error.code is ErrorCode.INVALID_NAME
    else:
        assert name == name.strip() and 1 <= len(name) <= 32 and name.isprintable()
