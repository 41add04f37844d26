"""Bounded memory per request: SQLite limits, refused functions and a cap on every result.

Datasette's 250 ms time limit counts SQLite steps, but one step can build a value of any
size (``select zeroblob(999999999)``), and Python then turns the rows into JSON or HTML
at several times their size. Every connection Datasette opens therefore gets:

* SQLite limits (``sqlite3_limit``), the main one being the longest string or blob any
  expression may build (``LIMITS[SQLITE_LIMIT_LENGTH]``, about 250 times the longest
  value of the real database, which is a 4 kB full-text index page);
* a process-wide ceiling on SQLite's own heap (``PRAGMA hard_heap_limit``);
* functions that leak memory addresses or load code replaced by ones that refuse;
* the server's file path hidden from ``pragma_database_list`` (an authorizer);
* a row factory that counts the cells and bytes each query returns and stops it with a
  French error beyond ``MAX_RESULT_BYTES`` / ``MAX_RESULT_CELLS`` — so with at most
  ``max_returned_rows`` rows, no answer holds more than a few megabytes of values.

A refused query is an ordinary SQL error: a 400 page (or JSON error) in French.
"""

import re
import sqlite3
import sys
import threading
import weakref

from datasette import hookimpl

LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 1_000_000,  # longest string or blob (real maximum: 4,050 bytes)
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 50_000,  # longest SQL text (canned queries: under 4 kB)
    sqlite3.SQLITE_LIMIT_COLUMN: 100,  # columns of a table, result, index or ORDER BY (widest table: 30)
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 64,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 10,
    sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}
HEAP_LIMIT = 64 * 1024 * 1024  # SQLite's whole heap, every connection of the process
MAX_RESULT_BYTES = 4_000_000  # text and blobs of one query's rows (blobs count 4x: base64 in JSON)
MAX_RESULT_CELLS = 100_000  # rows x columns of one query
REFUSED_FUNCTIONS = {
    "fts3_tokenizer": (1, 2),  # returns a raw pointer (an exploitation building block)
    "load_extension": (1, 2),  # loads native code
}
HIDDEN_COLUMNS = {("pragma_database_list", "file")}  # the server's absolute path
# printf('%.*c', N, 'x') repeats a character N times in one SQLite step, and SQLite 3.40 keeps
# looping after the value is too long (7 s for N = 10**9): printf and format check their
# repeat counts, then run SQLite's own printf on a private connection.
MAX_REPEAT = 10_000
PRINTF_SPEC = re.compile(r"%[-+ #0!,]*(\*|\d*)(?:\.(\*|\d*))?l{0,2}([a-zA-Z%])")

TOO_BIG = (
    "Résultat trop volumineux : une requête peut renvoyer au plus {cells:,} cellules et {mb} Mo de texte. "
    "Sélectionnez moins de colonnes ou de lignes (LIMIT), ou téléchargez la base entière."
).replace(",", " ")


class Refused(sqlite3.OperationalError):
    """A refusal by one of our SQL functions (SQLite reports it as a failed user-defined function)."""


_totals: "weakref.WeakKeyDictionary[sqlite3.Cursor, list[int]]" = weakref.WeakKeyDictionary()


def refuse(name):
    def refused(*args):
        raise Refused(f"la fonction {name}() est désactivée sur ce site")

    return refused


_plain = threading.local()


def plain_printf(*args):
    """SQLite's printf(), refused when a %c asks for more than MAX_REPEAT repetitions."""
    if args and isinstance(args[0], str):
        position = 1
        for width, precision, conversion in PRINTF_SPEC.findall(args[0]):
            if conversion == "%":
                continue
            if width == "*":
                position += 1
            if precision == "*":
                precision = args[position] if position < len(args) else 0
                position += 1
            if conversion == "c" and isinstance(precision, int | str) and _as_int(precision) > MAX_REPEAT:
                raise Refused(f"printf() : au plus {MAX_REPEAT} répétitions d'un caractère")
            position += 1
    conn = getattr(_plain, "conn", None)
    if conn is None:
        conn = _plain.conn = sqlite3.connect(":memory:")
        for category, value in LIMITS.items():
            conn.setlimit(category, value)
    return conn.execute(f"select printf({', '.join('?' * len(args))})", args).fetchone()[0]


def _as_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def authorizer(action, arg1, arg2, database, trigger):
    if action == sqlite3.SQLITE_READ and (arg1, arg2) in HIDDEN_COLUMNS:
        return sqlite3.SQLITE_IGNORE  # the column reads as NULL
    return sqlite3.SQLITE_OK


def counting_row(cursor, values):
    """sqlite3.Row, after adding this row to its query's totals; refuse past the caps."""
    size = 0
    for value in values:
        if value.__class__ is str:
            size += len(value)
        elif value.__class__ is bytes:
            size += 4 * len(value)
    totals = _totals.get(cursor)
    if totals is None:
        totals = _totals[cursor] = [0, 0]
    totals[0] += size
    totals[1] += len(values)
    if totals[0] > MAX_RESULT_BYTES or totals[1] > MAX_RESULT_CELLS:
        raise sqlite3.OperationalError(TOO_BIG.format(cells=MAX_RESULT_CELLS, mb=MAX_RESULT_BYTES // 1_000_000))
    return sqlite3.Row(cursor, values)


def bound(conn) -> None:
    for category, value in LIMITS.items():
        conn.setlimit(category, value)
    conn.execute(f"PRAGMA hard_heap_limit = {HEAP_LIMIT}")
    for name, arities in REFUSED_FUNCTIONS.items():
        for arity in arities:
            conn.create_function(name, arity, refuse(name))
    for name in ("printf", "format"):
        conn.create_function(name, -1, plain_printf)
    conn.set_authorizer(authorizer)
    conn.row_factory = counting_row
    quiet_refusals()


def quiet_refusals() -> None:
    """Datasette prints the traceback of every failed SQL function; ours are expected refusals.

    Installed when a connection is prepared (this module is imported as early as Datasette's
    plugins are, before whatever else may set the hook), around the hook in place then."""
    hook = sys.unraisablehook
    if getattr(hook, "quiet_refusals", False):
        return

    def unraisable(info):
        if not isinstance(info.exc_value, Refused):
            hook(info)

    unraisable.quiet_refusals = True
    sys.unraisablehook = unraisable


@hookimpl
def prepare_connection(conn):
    bound(conn)
