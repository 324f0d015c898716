"""A ward written with another case or spacing is the existing ward misspelt; a new name is a new ward."""

from __future__ import annotations

import pytest

from vward.domain.episodes import existing_spelling

KNOWN = ["Virtual Ward A", "Respiratory VW"]


@pytest.mark.parametrize(
    ("ward", "existing"),
    [
        ("Virtual Ward A", None),  # as it is
        ("virtual ward a", "Virtual Ward A"),
        ("Virtual  Ward A ", "Virtual Ward A"),
        ("RESPIRATORY vw", "Respiratory VW"),
        ("Virtual Ward B", None),  # a new ward
        ("Virtual Ward", None),
    ],
)
def test_a_variant_names_the_existing_ward(ward: str, existing: str | None) -> None:
    assert existing_spelling(ward, KNOWN) == existing
