"""Templates that survive an upgrade, and the Datasette APIs that change in 1.0 kept in one module.

Every template of ours that takes the place of an installed one (Datasette's, or a plugin's) says
so on its first line — « Copy of », « Replaces » or « Extends », then the package, its version and
the file — and ORIGINALS holds the SHA-256 of that original: when an upgrade changes it, a test
fails and names the file to compare again. Any other template must not be a near-verbatim copy
of one of theirs.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.metadata
import re
from importlib.resources import files
from pathlib import Path

import pytest
from ciso.site import ROOT

TEMPLATES = ROOT / "templates"
HEADER = re.compile(
    r"\{#- (?P<how>Copy of|Replaces|Extends) (?P<package>Datasette|datasette-auth-passwords) "
    r"(?P<version>\d[\w.]*) (?P<file>[\w-]+\.html)\b"
)
MODULES = {"Datasette": "datasette", "datasette-auth-passwords": "datasette_auth_passwords"}
# SHA-256 of each original a template of ours derives from, as installed when it was last compared.
ORIGINALS = {
    ("Datasette", "_close_open_menus.html"): "eda6b9dbf39ab061a9e29dcb05fdb5728d91dce8bcf5de436c0066c22a840fe2",
    ("Datasette", "_codemirror.html"): "adc9b239432e853b62049bebf493ea948a2410ee295b7fa9a054e644588535d7",
    ("Datasette", "_codemirror_foot.html"): "57f0251b9c1fbe032faf49694bcf7ef1940c6c4fa9a7e2bfb587e79f758dcd12",
    ("Datasette", "_crumbs.html"): "882c9d69e13363b440d4b977d432ae7287548d53e71ca199327c1acece3c9c81",
    (
        "Datasette",
        "_description_source_license.html",
    ): "13fcf73b733dadc598f79a11ce5ec04df6205d13deefeb76bd388008cc072e51",
    ("Datasette", "_facet_results.html"): "622d3c764aa14f17f07714af7bbdee5719adfbce9cce5358fd3df3e2df137f30",
    ("Datasette", "_footer.html"): "d190d9e7dc5046c1bdfb2b738c60754143eab44fdbae2d9a74e7b8f1aa2cf44b",
    ("Datasette", "_suggested_facets.html"): "da43051a548a47be72a74513d45e7a4fba4fd5e89d49b29fc48b0b306000f20f",
    ("Datasette", "_table.html"): "f75a8872713f28fdce49b9a44a397f26ba1b5db5e82a74dda1f20ec14faaaa57",
    ("Datasette", "base.html"): "bb22df33caea147e1db3b238878f2716ab698c81be89a66d9dabd5649e899dc2",
    ("Datasette", "database.html"): "4fd5e97823bb5380b54c4f4f5285f07d1db74e366ef6225aa46dddfcf5b2c88a",
    ("Datasette", "error.html"): "c2115d1fdbff1a480b804fe880bafec9a754544f7b154e5322f680309ee3b497",
    ("Datasette", "logout.html"): "a9ddc5d5473cf85eae77bc4f52c76fe2e77bee601e9439f95d063ded653907ed",
    ("Datasette", "query.html"): "bc3559df0e209da97d0bb46d0da5e36e02a9a561e4e473d1b79f62776786b435",
    ("Datasette", "row.html"): "ff5dde41541c39dd09f1dee1bbb3e4e58e8487775b17e1c9650bd558eb1b5a17",
    ("Datasette", "table.html"): "81cec4b0f7948bf0b4756b1a0ce706ce30d5694e506fd5639f3cd08a4a8f88a9",
    (
        "datasette-auth-passwords",
        "password_login.html",
    ): "546532e545b7a11f004d159641ed1c1777253cc337e9b00cbd2577713d08a199",
    (
        "datasette-auth-passwords",
        "password_tool.html",
    ): "a3f75bbdeb0885acd220db4a0db1f35601ffeb79bbdd4309c22603d2028dc65b",
}
NEAR_VERBATIM = 0.5  # share of lines in common (difflib) from which a template counts as a copy


def original(package: str, name: str) -> Path:
    return Path(str(files(MODULES[package]))) / "templates" / name


def installed_templates() -> dict[tuple[str, str], str]:
    return {
        (package, path.name): path.read_text(encoding="utf-8")
        for package in MODULES
        for path in original(package, "x").parent.glob("*.html")
    }


def ours() -> list[Path]:
    return sorted(TEMPLATES.glob("*.html"))


def header(path: Path) -> re.Match | None:
    return HEADER.match(path.read_text(encoding="utf-8"))


def test_every_template_in_the_place_of_an_installed_one_names_its_original():
    installed = {name for _, name in installed_templates()}
    for path in ours():
        if path.name in installed:
            found = header(path)
            assert found, f"templates/{path.name} takes the place of an installed template: name it on line 1"
            assert found["file"] == path.name, path.name


@pytest.mark.parametrize("path", [p for p in ours() if header(p)], ids=lambda p: p.name)
def test_originals_are_those_our_templates_were_compared_with(path):
    found = header(path)
    package, name = found["package"], found["file"]
    assert found["version"] == importlib.metadata.version(MODULES[package].replace("_", "-")), (
        f"templates/{path.name} names {package} {found['version']}: compare it with the installed version's {name}, "
        "then update its header and ORIGINALS"
    )
    digest = hashlib.sha256(original(package, name).read_bytes()).hexdigest()
    assert ORIGINALS.get((package, name)) == digest, (
        f"{package}'s {name} has changed since templates/{path.name} was compared with it: carry its changes over, "
        "then store its new SHA-256 in ORIGINALS"
    )


def test_every_stored_original_is_still_used():
    named = {(m["package"], m["file"]) for m in map(header, ours()) if m}
    assert set(ORIGINALS) == named


def lines(text: str) -> list[str]:
    return [line.strip() for line in re.sub(r"\{#.*?#\}", "", text, flags=re.S).splitlines() if line.strip()]


def copied_from(text: str) -> tuple[str, str, float] | None:
    """(package, file, share of lines in common) of the installed template ``text`` is a near-verbatim copy of."""
    text = lines(text)
    for (package, name), theirs in installed_templates().items():
        similarity = difflib.SequenceMatcher(None, text, lines(theirs)).ratio()
        if similarity >= NEAR_VERBATIM:
            return package, name, similarity
    return None


def test_no_template_without_that_header_is_a_near_verbatim_copy():
    for path in ours():
        if not header(path):
            assert copied_from(path.read_text(encoding="utf-8")) is None, f"templates/{path.name}"


def test_a_copy_without_its_header_would_be_caught():
    """The check above can fail: our row.html, its header removed, is recognised as Datasette's."""
    text = (TEMPLATES / "row.html").read_text(encoding="utf-8")
    stripped = text[header(TEMPLATES / "row.html").end() :].split("-#}", 1)[1]
    assert not HEADER.match(stripped)
    assert copied_from(stripped)[:2] == ("Datasette", "row.html")


# --- Datasette's APIs that change in 1.0 ------------------------------------------------------------

CHANGING = re.compile(r"\.(metadata|plugin_config|permission_allowed|get_canned_queries|get_canned_query)\(")
HOME = ROOT / "scripts" / "ciso" / "web.py"


def callers() -> dict[str, list[str]]:
    found = {}
    for path in sorted([*(ROOT / "plugins").glob("*.py"), *(ROOT / "scripts" / "ciso").glob("*.py")]):
        calls = [m[0] for m in CHANGING.finditer(path.read_text(encoding="utf-8")) if path != HOME]
        if calls:
            found[path.relative_to(ROOT).as_posix()] = calls
    return found


def test_datasette_apis_that_change_in_1_0_are_called_from_ciso_web_only():
    found = callers()
    assert found == {}, found
    assert CHANGING.search(HOME.read_text(encoding="utf-8"))
