"""The benchmark tools work: the corpus generator and a smoke run of benchmarks/run.py.

No timing is asserted here: performance is measured by ``make bench`` and
reported in benchmarks/RESULTATS.md.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from ciso.build import build
from ciso.cli import cli
from ciso.site import ROOT
from click.testing import CliRunner
from conftest import DATA, REAL_PLAN, plans_own_words

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate, synthetic_plan  # noqa: E402

COUNTED = ("plans", "objectifs", "actions", "activites", "passages", "lignes")


@pytest.fixture(scope="module")
def corpus3(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "data"
    return out, generate(DATA, out, 3)


def test_generator_writes_valid_plans_that_build_into_three_times_the_rows(corpus3, tmp_path):
    out, written = corpus3
    assert [p.name for p in written] == [
        "plan-action-2020-2021.txt",
        "plan-action-2021-2022.txt",
        "plan-action-2022-2023.txt",
    ]
    assert written[0].read_bytes() == REAL_PLAN.read_bytes()  # reference files quote it verbatim
    assert {p.name for p in (out / "reference").iterdir()} == {p.name for p in (DATA / "reference").iterdir()}
    assert {p.name for p in (out / "suivi").iterdir()} == {p.name for p in (DATA / "suivi").iterdir()}

    result = CliRunner().invoke(cli, ["check", "--data", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 plan(s) valide(s), aucun problème" in result.output

    tripled = build(out, tmp_path / "ciso.db").tables
    single = build(plans_own_words(tmp_path / "real", until="2020-2021"), tmp_path / "real.db").tables
    for table in COUNTED:
        assert len(tripled[table]) == 3 * len(single[table]), table


def test_synthetic_plans_vary_the_text_deterministically(corpus3):
    out, written = corpus3
    template = REAL_PLAN.read_text(encoding="utf-8")
    second = written[1].read_text(encoding="utf-8")
    assert second != template.replace("PLAN D'ACTION 2020-2021", "PLAN D'ACTION 2021-2022")
    assert second.count("\n") == template.count("\n")
    assert "PLAN D'ACTION 2021-2022" in second
    assert second != written[2].read_text(encoding="utf-8").replace("2022-2023", "2021-2022")
    assert synthetic_plan(template, 2021) == second  # same seed, same text


def test_generator_reaches_four_digit_years_and_refuses_a_used_directory(tmp_path):
    template = REAL_PLAN.read_text(encoding="utf-8")
    assert "PLAN D'ACTION 3019-3020" in synthetic_plan(template, 3019)  # the 1000th plan
    generate(DATA, tmp_path / "d", 1)
    with pytest.raises(FileExistsError):
        generate(DATA, tmp_path / "d", 1)


def test_run_quick_writes_a_report_with_every_section(tmp_path):
    report = tmp_path / "RESULTATS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(report)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    text = report.read_text(encoding="utf-8")
    for heading in (
        "# Mesures de performance",
        "## Conditions",
        "## Construction de la base",
        "## Requêtes SQL des pages du projet",
        "## Temps de réponse — base 1×",
        "### 1 client simultané",
        "### 10 clients simultanés",
        "## Datasette d'origine",
        "### Octets envoyés",
        "## Montée en charge : répliques derrière nginx",
        "### Mêmes octets sur chaque réplique",
        "## Constats",
    ):
        assert heading in text, heading
    scale = text.split("## Montée en charge", 1)[1].split("## Constats", 1)[0]
    for setup in ("1 réplique en direct", "2 répliques derrière nginx", "2 répliques, nginx et son cache"):
        assert f"| Avancement | `/-/progres` | {setup} |" in scale, setup
    cached = next(line for line in scale.splitlines() if "| `/-/progres` | 2 répliques, nginx et son cache |" in line)
    assert int(cached.rstrip(" |").rsplit("|", 1)[1].replace("\u202f", "")) > 0  # answers nginx took from its cache
    assert "**non**" not in scale  # every replica and nginx gave the same bytes
    assert "Ajustement linéaire" in text
    assert "run.py --quick --out" in text  # the command that produced it
    for path in ("/ciso/activites", "/-/progres", "/-/progres/2020-2021/1", "/-/transparence"):
        assert f"`{path}`" in text, path
    stock = text.split("## Datasette d'origine", 1)[1].split("## Montée en charge", 1)[0]
    for clients in (1, 10):
        compared = f"| `/ciso/activites?_nofacet=1` | Datasette d'origine | {clients} |"
        assert compared in stock and f"| `/` | notre `/-/progres` | {clients} |" in stock
    row = next(line for line in stock.splitlines() if compared in line)
    assert re.search(r"\| \d+,\d\d× \|", row)  # a measured ratio, not « — »
    assert "| `/ciso/activites?_nofacet=1` | notre site |" in stock and "| gzip |" in stock
    baseline = [line for line in text.splitlines() if line.startswith("| Table simple (référence) |")]
    assert len(baseline) == 2 and all(line.endswith("| référence |") for line in baseline)  # measured, not absent
