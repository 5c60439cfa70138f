"""Shared by the benchmark scripts: a fresh, empty utf8mb4 database of their own on MariaDB."""

import re
from pathlib import Path

import pymysql
import sqlalchemy as sa


def recreate_database(url: str, name: str) -> None:
    """Drop and create `name` on the server `url` points at (the benchmarks' own databases only)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"unsafe database name {name!r}")
    server = sa.make_url(url)
    conn = pymysql.connect(
        host=server.host,
        port=server.port or 3306,
        user=server.username,
        password=server.password or "",
        autocommit=True,
    )
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def find_mariadbd(conn) -> int | None:
    """The server we are connected to: its pid file, else the first mariadbd/mysqld process."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@pid_file")
            (pid_file,) = cur.fetchone()
        pid = int(Path(pid_file).read_text().split()[0])
        if Path(f"/proc/{pid}/stat").exists():
            return pid
    except (OSError, ValueError, IndexError, pymysql.MySQLError):
        pass
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("mariadbd", "mysqld"):
                    return int(entry.name)
            except OSError:
                continue
    return None
