"""Problems found in source files, reported as ``PATH:LINE: message``."""

from __future__ import annotations

from dataclasses import dataclass

import click


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # about a whole file or directory
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class SourceError(Exception):
    """Raised when sources hold problems; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Erreur(click.ClickException):
    """A user mistake: a French message on stderr, exit status 1, no traceback."""

    def show(self, file=None):
        click.echo(f"Erreur : {self.format_message()}", err=True)
