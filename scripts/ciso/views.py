"""SQL views stored in the database: one definition for pages, JSON and journalists."""

from __future__ import annotations

VIEWS: dict[str, str] = {}
