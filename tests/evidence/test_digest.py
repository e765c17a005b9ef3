"""The digests are pure: tested without a database."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kaoping.evidence.digest import digest, texts_digest


@settings(max_examples=500)
@given(st.lists(st.text()))
@example(["c:hall:C1", "e:hall:C1/a"])
@example(['\x00\x1f\x7f\u2028"\\/é😀\n\t\r\b\f', "办件编号", ""])
def test_texts_digest_is_the_digest_of_the_list(texts: list[str]) -> None:
    assert texts_digest(texts) == digest(texts)


def test_a_known_digest() -> None:
    """SHA-256 of the canonical JSON text ["a","b"] (compact, no spaces)."""
    expected = "0473ef2dc0d324ab659d3580c1134e9d812035905c4781fdd6d529b0c6860e13"
    assert digest(["a", "b"]) == texts_digest(["a", "b"]) == expected
