"""The plan parser and its validation, without SQLite."""

from __future__ import annotations

import pytest
from ciso.plan import parse_plan
from ciso.plan_checks import validate_plans
from conftest import FIXTURES, REAL_PLAN

FIXTURE_PLAN = FIXTURES / "plans" / "plan-action-2021-2022.txt"


def parse(data: bytes, path="plan.txt"):
    plan = parse_plan(data, path)
    return plan, validate_plans([plan])


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line that contains ``needle``."""
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def test_real_plan_counts():
    plan, problems = parse(REAL_PLAN.read_bytes())
    assert problems == []
    assert plan.period == "2020-2021"
    assert len(plan.objectives) == 5
    assert len(plan.actions()) == 22
    assert sum(len(a.activities) for a in plan.actions()) == 60
    assert [len(o.actions) for o in plan.objectives] == [4, 4, 3, 5, 6]


def test_real_plan_lines_point_at_their_text():
    raw = REAL_PLAN.read_text(encoding="utf-8")
    lines = raw.split("\n")
    plan, _ = parse(REAL_PLAN.read_bytes())
    for o in plan.objectives:
        assert lines[o.line - 1].startswith(f"OBJECTIF {o.number} : {o.title}")
        assert lines[o.announced_line - 1] == f"Objectif {o.number} : {o.announced_title}"
        for a in o.actions:
            assert lines[a.line - 1] == f"{a.number} {a.title}"
            for act in a.activities:
                assert lines[act.line - 1] == f"- {act.text}"


def test_announced_and_section_titles_differ_and_both_are_kept():
    plan, _ = parse(REAL_PLAN.read_bytes())
    by_number = {o.number: o for o in plan.objectives}
    assert by_number[2].title.endswith("au renforcement de leurs organisations à l'international")
    assert by_number[2].announced_title.endswith(
        "au renforcement des organisations de travailleuses et travailleurs à l'international."
    )
    assert "les décideurs et les organisations internationales" in by_number[3].title
    assert "les décideurs et organisations internationales" in by_number[3].announced_title


def test_actions_without_bullets_keep_their_paragraph():
    plan, _ = parse(REAL_PLAN.read_bytes())
    actions = {a.number: a for a in plan.actions()}
    assert actions["3.3"].activities == []
    assert actions["3.3"].description.startswith("Le CISO travaille collectivement avec diverses coalitions")
    assert actions["4.2"].activities == [] and actions["4.2"].description is None
    # 5.5 has a paragraph and then bullets: both are kept.
    assert actions["5.5"].description.startswith("Plusieurs incidents tragiques")
    assert len(actions["5.5"].activities) == 2
    # Bullets separated by a blank line stay in their action (1.4 has a blank line after its third bullet).
    assert len(actions["1.4"].activities) == 8


def test_preamble_is_kept_as_passages():
    plan, _ = parse(REAL_PLAN.read_bytes())
    sections = {b.section for b in plan.blocks if b.objective is None}
    assert {"PRIORITÉ TRANSVERSALE", "ÉQUIPE", "LES COMITÉS DE TRAVAIL :"} <= sections
    team = [b for b in plan.blocks if b.section == "ÉQUIPE" and b.kind == "paragraphe"]
    assert team[0].text.startswith("Depuis maintenant huit ans")
    # Every non-blank line of the file belongs to exactly one passage.
    covered = {n for b in plan.blocks for n in range(b.line_start, b.line_end + 1)}
    non_blank = {n for n, line in enumerate(REAL_PLAN.read_text().split("\n"), 1) if line.strip()}
    assert covered == non_blank


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"), id="bom+crlf"),
    ],
)
def test_bom_and_crlf_are_accepted_with_the_same_result(transform):
    original, _ = parse(REAL_PLAN.read_bytes())
    variant, problems = parse(transform(REAL_PLAN.read_bytes()))
    assert problems == []
    assert [(a.number, a.line, a.title) for a in variant.actions()] == [
        (a.number, a.line, a.title) for a in original.actions()
    ]
    assert [act.text for a in variant.actions() for act in a.activities] == [
        act.text for a in original.actions() for act in a.activities
    ]


def test_fixture_plan_continuation_lines_join_the_bullet():
    plan, problems = parse(FIXTURE_PLAN.read_bytes())
    assert problems == []
    second = plan.actions()[0].activities[1]
    assert second.text == "Deuxième atelier inventé, dont le texte continue sur une deuxième ligne."
    assert second.line_end == second.line + 1


# Each rejection rule: (id, function text -> broken text, needle locating the expected line, message fragment)
def _rules():
    return [
        (
            "duplicate-objective",
            lambda t: t.replace("OBJECTIF 2 : Appuyer les partenaires", "OBJECTIF 1 : Appuyer les partenaires"),
            "OBJECTIF 1 : Appuyer les partenaires",
            "objectif 1 en double",
        ),
        (
            "duplicate-action",
            lambda t: t.replace("1.2 Veille documentaire", "1.1 Veille documentaire"),
            "1.1 Veille documentaire",
            "action 1.1 en double",
        ),
        (
            "action-of-other-objective",
            lambda t: t.replace("1.2 Veille documentaire", "2.2 Veille documentaire"),
            "2.2 Veille documentaire",
            "son numéro doit commencer par 1",
        ),
        (
            "bullet-outside-action",
            lambda t: t.replace(
                "Un paragraphe de description inventé pour l'objectif 1.",
                "- Une puce égarée avant les actions.",
            ),
            "- Une puce égarée",
            "puce « - » hors d'une action",
        ),
        (
            "announced-count",
            lambda t: t.replace("AUTOUR DE 2 OBJECTIFS", "AUTOUR DE 3 OBJECTIFS"),
            "AUTOUR DE 3 OBJECTIFS",
            "3 objectifs annoncés, mais 2 sections",
        ),
        (
            "section-not-announced",
            lambda t: t.replace("Objectif 2 : Appuyer les partenaires d'ailleurs.\n", ""),
            "OBJECTIF 2 : Appuyer les partenaires",
            "l'objectif 2 n'est pas annoncé",
        ),
        (
            "no-title",
            lambda t: t.replace("PLAN D'ACTION 2021-2022\n", ""),
            "Plan inventé pour les tests",
            "ligne de titre attendue",
        ),
    ]


RULES = _rules()


@pytest.mark.parametrize("name,transform,needle,fragment", RULES, ids=[r[0] for r in RULES])
def test_rejections_name_the_line(name, transform, needle, fragment):
    text = transform(FIXTURE_PLAN.read_text(encoding="utf-8"))
    plan, problems = parse(text.encode("utf-8"), "data/plans/p.txt")
    expected_line = line_of(text, needle)
    matching = [p for p in problems if fragment in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].line == expected_line
    assert str(matching[0]).startswith(f"data/plans/p.txt:{expected_line}: ")


def test_not_utf8_names_the_line():
    text = FIXTURE_PLAN.read_text(encoding="utf-8")
    data = text.encode("utf-8").replace(b"Ateliers de formation", "Ateliers de s\xe9curit\xe9".encode("latin-1"))
    plan, problems = parse(data, "x.txt")
    assert len(problems) == 1
    assert problems[0].line == line_of(text, "Ateliers de formation")
    assert "n'est pas en UTF-8" in problems[0].message


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"])
def test_empty_file_is_rejected(data):
    plan, problems = parse(data, "vide.txt")
    assert [str(p) for p in problems] == [
        "vide.txt:1: le fichier est vide : un plan commence par « PLAN D'ACTION AAAA-AAAA »"
    ]


def test_two_files_with_the_same_period_are_rejected():
    a = parse_plan(REAL_PLAN.read_bytes(), "a.txt")
    b = parse_plan(REAL_PLAN.read_bytes(), "b.txt")
    problems = validate_plans([a, b])
    assert [str(p) for p in problems] == [
        "b.txt:3: le plan 2020-2021 est déjà dans a.txt : une période ne peut être publiée qu'une fois"
    ]
