"""The method's fixed enumerations say the same as the county's reference vocabularies."""

from __future__ import annotations

from kimdesk.models.enums import CaseKind, Phase
from kimdesk.reference import load_reference


def test_case_kinds_and_phases_match_the_reference_vocabularies() -> None:
    reference = load_reference()

    assert [(k.value, k.label) for k in CaseKind] == [
        (t.code, t.label) for t in reference.terms("case_kinds")]
    assert [(p.value, p.label) for p in Phase] == [
        (t.code, t.label) for t in reference.terms("phases")]


def test_phases_run_in_the_concepts_order() -> None:
    assert [p.value for p in sorted(Phase, key=lambda p: p.index)] == [
        "intake", "assessment", "planning", "linking", "monitoring", "evaluation"]
