"""A Store that counts the documents each collection hands back: a fake around a real adapter
(no mock), for tests that a page reads a bounded number of documents however many there are."""

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from shared.store.base import Change, Doc, Store


class CountingStore:
    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.read: Counter[str] = Counter()  # collection -> documents read

    def _count(self, collection: str, found: Sequence[Any]) -> None:
        self.read[collection] += len(found)

    def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = self.inner.get(collection, doc_id)
        self.read[collection] += doc is not None
        return doc

    def create(self, collection: str, doc_id: str, doc: Doc) -> bool:
        return self.inner.create(collection, doc_id, doc)

    def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        self.inner.put(collection, doc_id, doc)

    def delete(self, collection: str, doc_id: str) -> None:
        self.inner.delete(collection, doc_id)

    def update(
        self, collection: str, doc_id: str, fn: Callable[[Doc | None], Doc | None]
    ) -> Doc | None:
        self.read[collection] += 1
        return self.inner.update(collection, doc_id, fn)

    def update_many(
        self, collection: str, doc_ids: Sequence[str], fn: Callable[[str, Doc | None], Change]
    ) -> dict[str, Doc | None]:
        self.read[collection] += len(doc_ids)
        return self.inner.update_many(collection, doc_ids, fn)

    def increment(
        self, collection: str, doc_id: str, deltas: Mapping[str, int], fields: Doc
    ) -> None:
        self.inner.increment(collection, doc_id, deltas, fields)

    def find(self, collection: str, field: str, value: Any) -> list[tuple[str, Doc]]:
        found = self.inner.find(collection, field, value)
        self._count(collection, found)
        return found

    def query(
        self,
        collection: str,
        equals: Mapping[str, str],
        field: str,
        upto: float,
        limit: int,
        descending: bool = False,
    ) -> list[tuple[str, Doc]]:
        found = self.inner.query(collection, equals, field, upto, limit, descending)
        self._count(collection, found)
        return found

    def scan(self, collection: str) -> Iterator[tuple[str, Doc]]:
        for item in self.inner.scan(collection):
            self.read[collection] += 1
            yield item
