"""Read curated YAML files while keeping the line of every entry and field.

Values are read as JSON would hold them: a date such as ``2020-04-01`` stays text, so that the
shape checks (jsonschema, see shapes.py) see every file the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from .problems import Problem


@dataclass
class Entry:
    """One mapping of a YAML list, with the 1-based line of each key."""

    path: str
    line: int
    data: dict
    lines: dict[str, int] = field(default_factory=dict)
    invalid: set[str] = field(default_factory=set)  # keys whose value has the wrong shape (shapes.py)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def get(self, key, default=None):
        return self.data.get(key, default)

    def __getitem__(self, key):
        return self.data[key]

    def __contains__(self, key) -> bool:
        return key in self.data


# libyaml's parser when PyYAML was built with it (as PyPI's wheels are): ten times faster.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(SafeLoader):
    """PyYAML's safe loader without timestamps: dates stay text, as in JSON."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct(node: yaml.Node):
    loader = Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_entries(text: str, path: str, key: str | None = None) -> tuple[list[Entry], list[Problem]]:
    """Parse a YAML document that is a list of mappings (or ``{key: [...]}``).

    Returns the entries with line numbers, and problems for syntax errors or a
    document of the wrong shape.
    """
    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(e, "problem", None) or str(e)
        return [], [Problem(path, line, f"YAML invalide : {reason}")]
    if root is None:
        return [], []
    if key is not None:
        if not isinstance(root, yaml.MappingNode):
            return [], [Problem(path, root.start_mark.line + 1, f"clé « {key} » attendue au premier niveau")]
        found = [v for k, v in root.value if k.value == key]
        if not found:
            return [], []
        root = found[0]
    if not isinstance(root, yaml.SequenceNode):
        return [], [Problem(path, root.start_mark.line + 1, "une liste d'entrées « - id: ... » est attendue")]
    entries, problems = [], []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem(path, line, "chaque entrée doit être un dictionnaire « clé: valeur »"))
            continue
        try:
            data = _construct(item)
        except yaml.YAMLError as e:
            problems.append(Problem(path, line, f"YAML invalide : {e}"))
            continue
        lines = {k.value: k.start_mark.line + 1 for k, _ in item.value}
        entries.append(Entry(path, line, data, lines))
    return entries, problems
