"""Every IATI rule we implement (ciso/iati_rules.py), tripped by a file broken for it.

For each rule: the real file — repaired first where it still carries that rule's warning — passes
it; the same file broken on purpose fails it; an error makes the export refuse the file.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from ciso import iati, iati_rules
from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
APPROVED = "CA-CRA_ACR-123456789RR0001"  # the form of an identifier of an approved list (invented number)
FUTURE = (dt.date.today() + dt.timedelta(days=400)).isoformat()


@pytest.fixture(scope="module")
def real(built):
    return etree.parse(str(built.parent / "export" / iati.FILE_NAME)).getroot()


def act(root, action: str):
    return next(a for a in root.iter("iati-activity") if a.findtext("iati-identifier").endswith(f"-2020-2021-{action}"))


def first(root):
    return root.find("iati-activity")


def sub(parent, tag: str, before: str | None = None, **attributes):
    """A new child, placed before the first ``before`` child if given (schema order)."""
    element = etree.Element(tag, {k.replace("_", "-"): v for k, v in attributes.items()})
    anchor = parent.find(before) if before else None
    if anchor is not None:
        anchor.addprevious(element)
    else:
        parent.append(element)
    return element


def named(element, text="x"):
    etree.SubElement(element, "narrative", {XML_LANG: "fr"}).text = text
    return element


def remove(element):
    element.getparent().remove(element)


def set_refs(root, ref: str):
    for a in root.iter("iati-activity"):
        identifier = a.find("iati-identifier")
        identifier.text = ref + identifier.text[identifier.text.index("-2020-2021") :]
        a.find("reporting-org").set("ref", ref)


def dates(root, **kinds):
    a = first(root)
    for kind, value in kinds.items():
        sub(a, "activity-date", before="recipient-country", type=kind[1:], iso_date=value)


def percentages(root, action: str, *values):
    for country, value in zip(act(root, action).findall("recipient-country"), values, strict=False):
        country.set("percentage", value)


BREAK = {
    "xsd": lambda r: remove(first(r).find("activity-status")),
    "1.1.1": lambda r: setattr(first(r).find("iati-identifier"), "text", "ZZ-1"),
    "1.1.2": lambda r: setattr(act(r, "1-2").find("iati-identifier"), "text", first(r).findtext("iati-identifier")),
    "1.1.21": lambda r: setattr(
        first(r).find("iati-identifier"), "text", first(r).find("reporting-org").get("ref") + "X2020"
    ),
    "1.1.3": lambda r: setattr(first(r).find("iati-identifier"), "text", first(r).find("reporting-org").get("ref")),
    "1.3.1": lambda r: setattr(first(r).find("iati-identifier"), "text", first(r).findtext("iati-identifier") + " "),
    "1.3.13": lambda r: setattr(first(r).find("iati-identifier"), "text", first(r).findtext("iati-identifier") + "/1"),
    "1.14.1": lambda r: set_refs(r, APPROVED + " "),
    "1.14.13": lambda r: set_refs(r, "CA-CRA_ACR-12&3"),
    "1.14.8": lambda r: set_refs(r, "QQ-NOPE-1"),
    "1.8.1": lambda r: act(r, "2-1").find("participating-org[@role='4']").set("ref", "XX-FAT "),
    "1.8.13": lambda r: act(r, "2-1").find("participating-org[@role='4']").set("ref", "XX-FAT?"),
    "1.7.2": lambda r: first(r).find("reporting-org").attrib.pop("ref"),
    "6.3.1": lambda r: first(r).find("reporting-org").attrib.pop("type"),
    "6.10.1": lambda r: remove(act(r, "2-1").find("participating-org[@role='4']/narrative")),
    "4.1.1": lambda r: (first(r).attrib.pop(XML_LANG), first(r).find("title/narrative").attrib.pop(XML_LANG)),
    "4.3.1": lambda r: setattr(first(r).find("title/narrative"), "text", "  "),
    "4.4.1": lambda r: setattr(first(r).find("description/narrative"), "text", ""),
    "6.2.1": lambda r: remove(first(r).find("activity-status")),
    "6.11.1": lambda r: remove(first(r).find("activity-date[@type='1']")),
    "11.1.2": lambda r: first(r).find("activity-date[@type='3']").set("iso-date", "2019-01-01"),
    "11.1.3": lambda r: dates(r, t2="2020-06-01", t4="2020-05-01"),
    "11.1.4": lambda r: dates(r, t2=FUTURE),
    "11.1.5": lambda r: dates(r, t4=FUTURE),
    "11.1.1": lambda r: first(r).set("last-updated-datetime", FUTURE + "T00:00:00+00:00"),
    "3.1.1": lambda r: named(sub(act(r, "2-2"), "recipient-country", before="sector", code="CO")),
    "3.1.2": lambda r: percentages(r, "3-2", "50"),
    "3.1.4": lambda r: percentages(r, "2-2", "50"),
    "3.4.1": lambda r: named(sub(act(r, "3-2"), "recipient-region", before="sector", code="998")),
    "3.4.2": lambda r: named(sub(act(r, "3-2"), "recipient-region", before="sector", code="998", percentage="10")),
    "3.4.4": lambda r: named(sub(first(r), "recipient-region", before="sector", code="998", percentage="50")),
    "3.7.1": lambda r: remove(act(r, "2-2").find("recipient-country")),
    "12.1.1": lambda r: percentages(r, "3-2", "150"),
    "12.4.1": lambda r: percentages(r, "3-2", "abc"),
    "6.2.2": lambda r: remove(first(r).find("sector")),
    "6.6.2": lambda r: etree.SubElement(
        etree.SubElement(first(r), "transaction"), "sector", vocabulary="1", code="16070"
    ),
    "2.1.1": lambda r: named(sub(first(r), "sector", before="tag", vocabulary="1", code="16070")),
    "2.1.2": lambda r: (
        first(r).find("sector").set("percentage", "40"),
        named(sub(first(r), "sector", before="tag", vocabulary="1", code="16070", percentage="40")),
    ),
    "2.1.4": lambda r: first(r).find("sector").set("percentage", "50"),
    "12.3.1": lambda r: first(r).find("sector").set("percentage", "120"),
    "2.2.1": lambda r: sub(first(r), "sector", before="tag", vocabulary="99", code="X1"),
    "102.1.1": lambda r: first(r).find("sector").set("vocabulary", "99"),
    "6.1.5": lambda r: first(r).find("document-link").attrib.pop("format"),
    "9.1.1": lambda r: r.set("version", "1.05"),
    "9.4.1": lambda r: first(r).find("activity-date").set("type", "9"),
    "9.5.1": lambda r: first(r).find("activity-status").set("code", "9"),
    "9.27.1": lambda r: first(r).find("document-link").set("format", "text/x-inconnu"),
    "9.28.1": lambda r: first(r).find("document-link/category").set("code", "Z99"),
    "9.29.1": lambda r: first(r).find("document-link/language").set("code", "zz"),
    "9.41.1": lambda r: first(r).find("participating-org").set("role", "9"),
    "9.42.1": lambda r: first(r).find("participating-org").set("type", "99"),
    "9.50.1": lambda r: act(r, "2-2").find("recipient-country").set("code", "ZZ"),
    "9.51.1": lambda r: named(sub(first(r), "recipient-region", before="sector", code="998")),
    "9.54.1": lambda r: first(r).find("reporting-org").set("type", "99"),
    "9.76.1": lambda r: first(r).find("sector").set("code", "15161"),
    "9.78.1": lambda r: first(r).find("sector").set("vocabulary", "77"),
    "9.79.1": lambda r: first(r).find("tag").set("vocabulary", "77"),
    "9.95.1": lambda r: first(r).find("title/narrative").set(XML_LANG, "zz"),
    "ciso.1": lambda r: act(r, "1-2").find("reporting-org").set("ref", "XX-AUTRE"),
    "ciso.2": lambda r: first(r).find("document-link").set("url", "/-/source/2020-2021"),
    "ciso.3": lambda r: setattr(first(r).find("tag/narrative"), "text", ""),
}
# Warnings the real file still carries, and what lifts them (the fixes /-/transparence describes).
REPAIR = {
    "1.14.8": lambda r: set_refs(r, APPROVED),  # CISO's identifier, once it gives it
    "3.7.1": lambda r: [
        named(sub(a, "recipient-country", before="sector", code="CA"))
        for a in r.iter("iati-activity")
        if a.find("recipient-country") is None
    ],
}


def findings_of(root, rule: str) -> list:
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return [f for f in iati_rules.findings(data) if f.rule == rule]


def test_every_implemented_rule_has_a_breaking_case():
    assert set(BREAK) == {r.id for r in iati_rules.RULES} | {"xsd"}
    ids = [r.id for r in iati_rules.RULES]
    assert len(ids) == len(set(ids))
    # Rule ids are those of the IATI rulesets (docs/data-quality-rules.csv), or ours, marked ciso.N.
    assert all(r.message for r in iati_rules.RULES)
    assert {r.severity for r in iati_rules.RULES} == {iati_rules.ERROR, iati_rules.WARNING}


@pytest.mark.parametrize("rule", sorted(BREAK))
def test_a_file_broken_for_a_rule_trips_it(real, rule):
    base = copy.deepcopy(real)
    if rule in REPAIR:
        assert findings_of(base, rule), f"the real file no longer carries the {rule} warning: update REPAIR"
        REPAIR[rule](base)
    assert findings_of(base, rule) == [], rule  # the (repaired) real file passes
    broken = copy.deepcopy(base)
    BREAK[rule](broken)
    found = findings_of(broken, rule)
    assert found, f"{rule} not tripped"
    data = etree.tostring(broken, xml_declaration=True, encoding="UTF-8")
    severity = next((r.severity for r in iati_rules.RULES if r.id == rule), iati_rules.ERROR)
    refused = [m for m in iati.check(data) if f"[{rule}]" in m]
    if severity == iati_rules.ERROR:
        assert refused, f"error {rule} does not refuse the file"  # export_xml raises: nothing is written
        assert refused[0].startswith(f"{iati.FILE_NAME}, ligne ") and "(à corriger : " in refused[0]
    else:
        assert refused == []  # a warning is listed, never a reason to refuse


def test_malformed_xml_is_an_error():
    found = iati_rules.findings(b"<iati-activities version='2.03'><iati-activity>")
    assert [(f.rule, f.severity) for f in found] == [("xml", iati_rules.ERROR)]


def test_the_real_file_has_no_error_and_only_the_warnings_the_page_lists(real, built):
    data = etree.tostring(real, xml_declaration=True, encoding="UTF-8")
    found = iati_rules.findings(data)
    assert iati_rules.errors(found) == [] and iati.check(data) == []
    assert {f.rule for f in found} == set(REPAIR)  # 1.14.8 (placeholder identifier), 3.7.1 (held in Québec)
    repaired = copy.deepcopy(real)
    for fix in REPAIR.values():
        fix(repaired)
    assert iati_rules.findings(etree.tostring(repaired, xml_declaration=True, encoding="UTF-8")) == []
