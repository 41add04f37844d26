"""ciso-donnees: CISO's action plans as an open SQLite database."""

__version__ = "0.1.0"
