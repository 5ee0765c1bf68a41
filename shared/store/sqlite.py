"""The embedded Store: one SQLite file, for local runs, the demo and most tests.

One table holds every collection as (collection, id, JSON document). The file is opened in WAL
mode with a busy timeout, so several threads and several processes may share it; every sqlite3
failure becomes ``StoreUnavailable``.
"""

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.errors import StoreUnavailable
from shared.store.base import MAX_MANY, Change, Deleted, Doc

BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
-- query() of dirty keys: a project's keys due by a time, oldest first (shared.drain.dirty)
CREATE INDEX IF NOT EXISTS docs_project_due ON docs (
    collection, json_extract(doc, '$.project_id'), json_extract(doc, '$.due_at')
);
CREATE INDEX IF NOT EXISTS docs_due ON docs (collection, json_extract(doc, '$.due_at'));
-- query() of outcomes and dead letters: a project's newest (of a status), read backwards
-- (shared.sync.outcomes latest, shared.repair.replay failures)
CREATE INDEX IF NOT EXISTS docs_project_at ON docs (
    collection, json_extract(doc, '$.project_id'), json_extract(doc, '$.at')
);
CREATE INDEX IF NOT EXISTS docs_project_status_at ON docs (
    collection, json_extract(doc, '$.project_id'), json_extract(doc, '$.status'),
    json_extract(doc, '$.at')
)
"""

# Field names become part of a JSON path; keep them to what a path can hold without quoting.
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def get(self, collection: str, doc_id: str) -> Doc | None:
        with self._session() as db:
            row = db.execute(
                "SELECT doc FROM docs WHERE collection = ? AND id = ?", (collection, doc_id)
            ).fetchone()
        return None if row is None else _load(row[0])

    def create(self, collection: str, doc_id: str, doc: Doc) -> bool:
        with self._session() as db:
            cursor = db.execute(
                "INSERT INTO docs (collection, id, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (collection, doc_id, _dump(doc)),
            )
            return cursor.rowcount == 1

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        with self._session() as db:
            db.execute(
                "INSERT INTO docs (collection, id, doc) VALUES (?, ?, ?)"
                " ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc",
                (collection, doc_id, _dump(doc)),
            )

    def delete(self, collection: str, doc_id: str) -> None:
        with self._session() as db:
            db.execute("DELETE FROM docs WHERE collection = ? AND id = ?", (collection, doc_id))

    def update(
        self, collection: str, doc_id: str, fn: Callable[[Doc | None], Doc | None]
    ) -> Doc | None:
        with self._session() as db:
            # IMMEDIATE takes the write lock before the read, so no other process can slip a
            # write in between and the transaction never has to be retried.
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT doc FROM docs WHERE collection = ? AND id = ?", (collection, doc_id)
                ).fetchone()
                current = None if row is None else _load(row[0])
                new = fn(current)
                if new is not None:
                    db.execute(
                        "INSERT INTO docs (collection, id, doc) VALUES (?, ?, ?)"
                        " ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc",
                        (collection, doc_id, _dump(new)),
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return current if new is None else _load(_dump(new))

    def update_many(
        self,
        collection: str,
        doc_ids: Sequence[str],
        fn: Callable[[str, Doc | None], Change],
    ) -> dict[str, Doc | None]:
        if len(doc_ids) > MAX_MANY:
            raise ValueError(f"update_many takes at most {MAX_MANY} documents")
        after: dict[str, Doc | None] = {}
        with self._session() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for doc_id in dict.fromkeys(doc_ids):
                    row = db.execute(
                        "SELECT doc FROM docs WHERE collection = ? AND id = ?", (collection, doc_id)
                    ).fetchone()
                    current = None if row is None else _load(row[0])
                    change = fn(doc_id, current)
                    if isinstance(change, Deleted):
                        db.execute(
                            "DELETE FROM docs WHERE collection = ? AND id = ?", (collection, doc_id)
                        )
                        after[doc_id] = None
                    elif change is not None:
                        raw = _dump(change)
                        db.execute(
                            "INSERT INTO docs (collection, id, doc) VALUES (?, ?, ?)"
                            " ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc",
                            (collection, doc_id, raw),
                        )
                        after[doc_id] = _load(raw)
                    else:
                        after[doc_id] = current
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return after

    def increment(
        self, collection: str, doc_id: str, deltas: Mapping[str, int], fields: Doc
    ) -> None:
        for name in (*deltas, *fields):
            if not _FIELD.fullmatch(name):
                raise ValueError(f"unsupported field name: {name!r}")
        added = {name: int(n) for name, n in deltas.items()}
        sets = "".join(
            f", '$.{name}', coalesce(json_extract(doc, '$.{name}'), 0) + ?" for name in added
        )
        sets += "".join(f", '$.{name}', json(?)" for name in fields)
        with self._session() as db:
            # Field names are checked against _FIELD above; every value is a parameter.
            db.execute(
                "INSERT INTO docs (collection, id, doc) VALUES (?, ?, ?)"  # noqa: S608
                f" ON CONFLICT (collection, id) DO UPDATE SET doc = json_set(doc{sets})",
                [
                    collection,
                    doc_id,
                    _dump({**fields, **added}),
                    *added.values(),
                    *(json.dumps(v) for v in fields.values()),
                ],
            )

    def query(
        self,
        collection: str,
        equals: Mapping[str, str],
        field: str,
        upto: float,
        limit: int,
        descending: bool = False,
    ) -> list[tuple[str, Doc]]:
        for name in (*equals, field):
            if not _FIELD.fullmatch(name):
                raise ValueError(f"unsupported field name: {name!r}")
        if not all(isinstance(value, str) for value in equals.values()):
            raise TypeError("query compares fields with strings only")
        # The expressions are spelled as in the indexes above, so that SQLite uses them. A text
        # or missing value never passes ``<= ?``: SQLite orders text after every number.
        where = "".join(f" AND json_extract(doc, '$.{name}') = ?" for name in equals)
        order = f"json_extract(doc, '$.{field}')"
        direction = " DESC" if descending else ""
        with self._session() as db:
            # Field names are checked against _FIELD above; every value is a parameter.
            rows = db.execute(
                f"SELECT id, doc FROM docs WHERE collection = ?{where}"  # noqa: S608
                f" AND {order} <= ?"
                f" ORDER BY {order}{direction}, id{direction} LIMIT ?",
                [collection, *equals.values(), upto, limit],
            ).fetchall()
        return [(row[0], _load(row[1])) for row in rows]

    def find(self, collection: str, field: str, value: Any) -> list[tuple[str, Doc]]:
        if not _FIELD.fullmatch(field):
            raise ValueError(f"unsupported field name: {field!r}")
        path = f"$.{field}"
        args: list[object]
        # json_extract turns true/false into 1/0, so the JSON type decides booleans and null.
        if value is None or isinstance(value, bool):
            match, args = "json_type(doc, ?) = ?", [path, json.dumps(value)]
        elif isinstance(value, int | float):
            match = "json_type(doc, ?) IN ('integer', 'real') AND json_extract(doc, ?) = ?"
            args = [path, path, value]
        elif isinstance(value, str):
            match = "json_type(doc, ?) = 'text' AND json_extract(doc, ?) = ?"
            args = [path, path, value]
        else:
            raise TypeError(f"find compares str, int, float, bool or None, not {type(value)}")
        with self._session() as db:
            # ``match`` is one of the constant fragments above; every value is a parameter.
            rows = db.execute(
                f"SELECT id, doc FROM docs WHERE collection = ? AND {match} ORDER BY id",  # noqa: S608
                [collection, *args],
            ).fetchall()
        return [(row[0], _load(row[1])) for row in rows]

    def scan(self, collection: str) -> Iterator[tuple[str, Doc]]:
        with self._session() as db:
            rows = db.execute(
                "SELECT id, doc FROM docs WHERE collection = ? ORDER BY id", (collection,)
            ).fetchall()
        for doc_id, raw in rows:
            yield doc_id, _load(raw)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        """One operation under the store's lock. The connection is opened lazily, so a store whose
        file is unreachable still constructs, and recovers once the file is back."""
        with self._lock:
            try:
                db = self._connect()
            except (sqlite3.DatabaseError, OSError) as exc:
                raise StoreUnavailable(f"sqlite store unreachable: {exc}") from exc
            try:
                yield db
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(f"sqlite store failed: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            _make_private_dirs(self.path.parent)
            _touch_private(self.path)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA synchronous = NORMAL")
                _set_up(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db


def _set_up(db: sqlite3.Connection) -> None:
    # Two connections setting up a new file at once can each hold a read lock while wanting to
    # write; SQLite answers one of them BUSY at once rather than wait, so the wait happens here.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _make_private_dirs(directory: Path) -> None:
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)  # another process may race us here


def _touch_private(path: Path) -> None:
    # Created before sqlite3 opens it, so the tokens file is never readable by others, not even
    # for a moment; sqlite gives its -wal and -shm files the same mode.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


def _dump(doc: Doc) -> str:
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)


def _load(raw: str) -> Doc:
    doc: Doc = json.loads(raw)
    return doc
