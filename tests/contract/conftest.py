"""The Store backends every contract test here runs on: SQLite in a temporary directory and
Firestore on the emulator, each able to hand out twins (another connection or client on the same
data, standing for another function instance)."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.store.base import Store
from shared.store.sqlite import SqliteStore
from tests.emulators import PROJECT


def _sqlite_stores(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    opened: list[SqliteStore] = []

    def make() -> Store:
        opened.append(SqliteStore(tmp_path / "data" / "omniroo.db"))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def _firestore_stores(request: pytest.FixtureRequest) -> Iterator[Callable[[], Store]]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    from shared.store.firestore import FirestoreStore

    first = request.getfixturevalue("firestore_store")
    handed: list[Store] = []
    clients: list[Any] = []

    def make() -> Store:
        if not handed:
            handed.append(first)
        else:
            # Another client on the same prefix stands for another function instance.
            clients.append(firestore.Client(project=PROJECT, credentials=AnonymousCredentials()))
            handed.append(FirestoreStore(clients[-1], prefix=first.prefix))
        return handed[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Builds stores on one backend: the first call the store under test, later ones twins that
    share its data through their own connection."""
    if request.param == "sqlite":
        yield from _sqlite_stores(tmp_path)
    else:
        yield from _firestore_stores(request)


@pytest.fixture
def store(stores: Callable[[], Store]) -> Store:
    return stores()
