"""The shared text field's rule: control characters are refused, but tab, newline and
carriage return, whatever else the text holds."""

from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from server.core.fields import Text

FIELD = Text(max_length=10_000)


def allowed(text: str) -> bool:
    return not any(ord(c) < 32 and c not in "\t\n\r" for c in text)


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",))))
def test_control_characters_are_refused_and_nothing_else(text):
    try:
        FIELD.deserialize(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == allowed(text)
