"""The shape of every curated YAML file, checked with jsonschema.

A file's schema says which keys an entry may have, which are required, their type (text,
whole number, list of texts), form (``pattern``) and allowed values (``enum``). The schemas
of the reference files are derived from the data model (``model.py``); the few files that are
not one table (``iati.yml``'s settings, ``suivi/statuts-du-plan.yml``, ``interne/notes.yml``)
state theirs below. Each jsonschema error becomes a French ``Problem`` at the line of the
key it is about (``yamlsource.Entry.line_of``), and the key is marked invalid on the entry so
that the cross-file checks (reference.py, curation.py…) skip what is already reported.

What jsonschema cannot see — an id that must exist in another file, a quotation that must be
in the plan, an alias used twice — is checked by the module that reads the file.
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

from .model import DAY, ID, INT, Column, Table
from .problems import Problem
from .yamlsource import Entry, load_entries

TEXT_LIST = {"type": "array", "items": {"type": "string"}}


def _nullable(schema: dict) -> dict:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    result = {**schema, "type": [*kinds, "null"]}
    if "enum" in schema:
        result["enum"] = [*schema["enum"], None]
    return result


def column_schema(column: Column) -> dict:
    if column.is_list:
        schema = dict(TEXT_LIST)
    elif column.type is INT:
        schema = {"type": "integer"}
    else:
        schema = {"type": "string"}
        if column.pattern:
            schema["pattern"] = column.pattern
        if column.choices:
            schema["enum"] = list(column.choices)
    return schema if column.required else _nullable(schema)


def table_schema(table: Table) -> dict:
    """The schema of one entry of a reference file, from the table's declaration."""
    properties = {c.yaml_key: column_schema(c) for c in table.input_columns}
    required = [c.yaml_key for c in table.input_columns if c.required]
    source = table.source
    if source.aliases:
        properties["alias"] = _nullable(dict(TEXT_LIST))
    if source.cited:
        for key in ("plan", "source", "note"):
            properties[key] = {"type": ["string", "null"]}
        properties["citation"] = {"type": "string"} if source.citation_required else {"type": ["string", "null"]}
        if source.citation_required:
            required.append("citation")
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


# --- files that are not one table --------------------------------------------------------------

ELEMENT = {"type": ["string", "number"]}  # « 1.4 » reads as a number in YAML
PLAN_STATUS_SCHEMA = {
    "type": "object",
    "properties": {
        "plan": {"type": "string"},
        "element": ELEMENT,
        "statut": {"type": "string"},
        "citation": {"type": "string", "pattern": r"\S"},
        "note": {"type": ["string", "null"]},
        "date_fin": {"type": ["string", "null"], "pattern": DAY},
    },
    "required": ["plan", "element", "statut", "citation"],
    "additionalProperties": False,
}
NOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": ID},
        "date": {"type": "string", "pattern": DAY},
        "organisation": {"type": ["string", "null"]},
        "plan": {"type": ["string", "null"]},
        "element": {"type": ["string", "number", "null"]},
        "sensibilite": {"enum": ["confidentiel", "risque_partenaire"]},
        "note": {"type": "string", "pattern": r"\S"},
    },
    "required": ["id", "date", "sensibilite", "note"],
    "additionalProperties": False,
}


def settings_schema(keys: tuple[str, ...], lists: tuple[str, ...]) -> dict:
    """A mapping of text settings (or null) and lists of entries (checked entry by entry)."""
    properties = {k: {"type": ["string", "null"]} for k in keys}
    properties.update({k: {"type": "array"} for k in lists})
    return {"type": "object", "properties": properties, "additionalProperties": False}


# --- errors in French, at their line -------------------------------------------------------------

KIND_FR = {"integer": "un nombre entier", "string": "un texte", "array": "une liste de textes", "number": "un nombre"}
MISSING = {  # what to do when a required key is missing, when more can be said than « obligatoire »
    "citation": "« citation » manquante : citez mot pour mot le passage du plan qui justifie cette entrée",
}


def _message(error, key: str, schema: dict) -> str:
    value = error.instance
    if error.validator == "type" and value is None:
        return MISSING.get(key, f"champ « {key} » obligatoire manquant")
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        kinds = [KIND_FR[k] for k in wanted if k in KIND_FR]
        if len(error.absolute_path) > 1:  # an item of a list
            return f"« {key} » doit être une liste de textes"
        return f"« {key} » doit être {' ou '.join(kinds)}"
    if error.validator == "pattern" and error.validator_value == r"\S":
        return MISSING.get(key, f"« {key} » est vide")
    if error.validator == "pattern":
        return f"« {key} » invalide : « {value} » (forme attendue {error.validator_value})"
    if error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value if v is not None)
        return f"« {key} » inconnu : « {value} » (valeurs permises : {allowed})"
    return f"« {key} » invalide : {error.message}"


def check_entry(entry: Entry, schema: dict) -> list[Problem]:
    """Problems of one entry against its schema; the keys at fault are added to ``entry.invalid``."""
    problems = []
    allowed = ", ".join(sorted(schema["properties"]))
    for error in Draft202012Validator(schema).iter_errors(entry.data):
        if error.validator == "additionalProperties":
            for key in entry.data:
                if key not in schema["properties"]:
                    entry.invalid.add(key)
                    problems.append(
                        Problem(entry.path, entry.line_of(key), f"champ « {key} » inconnu (champs permis : {allowed})")
                    )
        elif error.validator == "required":
            for key in schema.get("required", []):
                if key not in entry.data:
                    entry.invalid.add(key)
                    problems.append(
                        Problem(entry.path, entry.line, MISSING.get(key, f"champ « {key} » obligatoire manquant"))
                    )
        else:
            key = str(error.absolute_path[0]) if error.absolute_path else ""
            entry.invalid.add(key)
            problems.append(Problem(entry.path, entry.line_of(key), _message(error, key, schema)))
    return sorted(set(problems), key=lambda p: (p.line, p.message))


def check_entries(entries: list[Entry], schema: dict) -> list[Problem]:
    return [p for entry in entries for p in check_entry(entry, schema)]


def read_checked(path, schema: dict) -> tuple[list[Entry], list[Problem]]:
    """The entries of a YAML file (a list) whose shape is sound, and the problems of all of them."""
    entries, problems = load_entries(path.read_bytes().decode("utf-8-sig"), str(path))
    problems.extend(check_entries(entries, schema))
    return [e for e in entries if not e.invalid], problems
