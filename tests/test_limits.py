"""One request must not take the site down: every query's memory is bounded (plugins/limits.py).

The attacks run against the real server (``python -m ciso.server``), whose resident memory is
read from /proc; the unit tests check each limit on a connection prepared like Datasette's.
"""

from __future__ import annotations

import concurrent.futures
import sqlite3
import time

import httpx
import pytest
from ciso_site import limits
from conftest import own_site

pytestmark = pytest.mark.timed  # make test runs these alone, after the others: attacks refused within seconds

ROWS = "with recursive r(i) as (select 1 union all select i + 1 from r where i < {n}) "
# Each builds far more than the site allows from a query of a few dozen characters.
ATTACKS = {
    "blob": "select zeroblob(999999999)",
    "random-blob": "select randomblob(1000000000)",
    "repeated-character": "select printf('%.*c', 999999999, 'x')",
    "format-repeat": "select format('%.*c', 500000000, 'y')",
    "string-growth": "select replace(hex(zeroblob(400000)), '0', 'aaaa')",
    "padding": "select substr(hex(zeroblob(600000)), 1) || hex(zeroblob(600000))",
    "many-blob-rows": ROWS.format(n=1000) + "select randomblob(900000) from r",
    "many-text-rows": ROWS.format(n=1000) + "select hex(zeroblob(20000)), i from r",
    "aggregate": ROWS.format(n=100000) + "select group_concat(hex(randomblob(100))) from r",
    "json-aggregate": ROWS.format(n=1000) + "select json_group_array(hex(zeroblob(400000))) from r",
    "json-object": ROWS.format(n=1000) + "select json_object('a', hex(zeroblob(300000)), 'b', i) from r",
    "sorted-blobs": ROWS.format(n=1000) + "select zeroblob(900000) from r order by random()",
    "wide-rows": ROWS.format(n=1000) + "select " + ", ".join(["hex(zeroblob(2000))"] * 90) + " from r",
    "too-many-columns": "select " + ", ".join(["1"] * 150),
}
MEMORY_CEILING_KB = 300 * 1024


def peak_memory_kb(pid: int) -> int:
    """VmHWM: the most resident memory the process ever held."""
    for line in open(f"/proc/{pid}/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def attacked(built, tmp_path_factory):
    """A fresh server (so its peak memory is ours to read) and its log."""
    with own_site(built, tmp_path_factory.mktemp("limits")) as process:
        yield process


def ask(url: str, sql: str) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = httpx.get(url + "/ciso.json", params={"sql": sql, "_shape": "array"}, timeout=30)
    return response, time.perf_counter() - start


@pytest.mark.parametrize("name", ATTACKS)
def test_each_attack_is_refused_quickly_in_french(attacked, name):
    response, seconds = ask(attacked.url, ATTACKS[name])
    assert seconds < 2, f"{name}: {seconds:.1f} s"
    assert response.status_code == 400, (name, response.text[:300])
    error = response.json()["error"]
    assert any(word in error for word in ("trop", "refusée", "Trop", "au plus")), (
        f"{name}: not a French refusal: {error[:200]}"
    )
    html = httpx.get(attacked.url + "/ciso", params={"sql": ATTACKS[name]}, timeout=30)
    assert html.status_code == 400 and 'lang="fr"' in html.text
    assert peak_memory_kb(attacked.pid) < MEMORY_CEILING_KB


def test_the_server_survives_every_attack_at_once(attacked, built):
    """All attacks, three times each, eight at a time: memory stays bounded and the site answers."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda sql: ask(attacked.url, sql)[0].status_code, list(ATTACKS.values()) * 3))
    assert set(results) == {400}
    assert peak_memory_kb(attacked.pid) < MEMORY_CEILING_KB
    home = httpx.get(attacked.url + "/", timeout=10)
    assert home.status_code == 200 and "Centre international de solidarité ouvrière" in home.text
    rows = httpx.get(attacked.url + "/ciso/lignes.json?_shape=array&_size=max", timeout=10).json()
    with sqlite3.connect(built) as db:
        lines = db.execute("select count(*) from lignes").fetchone()[0]
    assert len(rows) == min(1000, lines) and rows[0]["numero"] == 1
    assert attacked.poll() is None
    log = attacked.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "MemoryError" not in log


def test_ordinary_queries_still_answer(attacked):
    response, _ = ask(attacked.url, "select printf('%d-%s-%5.2f|%.*c|%%', 3, 'a', 1.2345, 3, 'z') as p")
    assert response.json() == [{"p": "3-a- 1.23|zzz|%"}]
    response, _ = ask(attacked.url, "select plan_id, numero, texte from lignes order by numero")
    assert response.status_code == 200 and len(response.json()) > 100


# --- each limit, on a connection prepared like Datasette's ----------------------------------


@pytest.fixture
def conn(built):
    connection = sqlite3.connect(f"file:{built}?immutable=1", uri=True)
    connection.row_factory = sqlite3.Row
    limits.bound(connection)
    yield connection
    connection.close()


def test_the_longest_real_value_is_far_under_the_length_limit(conn):
    """The limit is sized from the data: the longest value of any column stays 100 times under it."""
    longest = 0
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        for column in conn.execute(f"pragma table_info([{table}])"):
            value = conn.execute(f"select max(length(cast([{column[1]}] as blob))) from [{table}]").fetchone()[0]
            longest = max(longest, value or 0)
    assert 0 < longest * 100 < limits.LIMITS[sqlite3.SQLITE_LIMIT_LENGTH]
    widest = max(len(conn.execute(f"pragma table_info([{t}])").fetchall()) for t in tables)
    assert widest * 2 < limits.LIMITS[sqlite3.SQLITE_LIMIT_COLUMN]


def test_functions_that_leak_addresses_or_load_code_are_refused(conn):
    for sql in ("select fts3_tokenizer('simple')", "select fts3_tokenizer('x', x'00')", "select load_extension('x')"):
        with pytest.raises(sqlite3.OperationalError):
            conn.execute(sql).fetchall()


def test_the_database_path_is_hidden(conn, built):
    rows = conn.execute("select * from pragma_database_list").fetchall()
    assert [tuple(r) for r in rows] == [(0, "main", None)]
    assert conn.execute("select count(*) from pragma_database_list where file is not null").fetchone()[0] == 0


def test_results_are_capped_in_bytes_and_cells(conn):
    with pytest.raises(sqlite3.OperationalError, match="Résultat trop volumineux"):
        conn.execute(ROWS.format(n=1000) + "select hex(zeroblob(10000)) from r").fetchall()
    with pytest.raises(sqlite3.OperationalError, match="Résultat trop volumineux"):
        conn.execute(ROWS.format(n=2000) + "select " + ", ".join(["i"] * 60) + " from r").fetchall()
    under = conn.execute(ROWS.format(n=1000) + "select hex(zeroblob(1000)) from r").fetchall()
    assert len(under) == 1000 and len(under[0][0]) == 2000


def test_printf_repeats_are_bounded(conn):
    assert conn.execute("select printf('%.*c', 5, 'x')").fetchone()[0] == "xxxxx"
    assert conn.execute("select format('%s=%d', 'a', 2)").fetchone()[0] == "a=2"
    start = time.perf_counter()
    for sql in ("select printf('%.*c', 999999999, 'x')", "select printf('%*.*c', 3, 20000, 'x')"):
        with pytest.raises(sqlite3.OperationalError):
            conn.execute(sql).fetchone()
    assert time.perf_counter() - start < 1
