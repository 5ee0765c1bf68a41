"""The Store port and its adapters (Firestore in production, SQLite locally)."""

from shared.store.base import COLLECTIONS, FIELDS, Doc, Store

__all__ = ["COLLECTIONS", "FIELDS", "Doc", "Store"]
