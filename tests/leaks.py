"""Scans for what must never be kept: Stripe customer values, secrets and tokens in clear."""

import json
from collections.abc import Iterable
from typing import Any

from shared.store.base import FIELDS


def hits(haystack: str, needles: Iterable[str]) -> list[str]:
    lowered = haystack.lower()
    return [n for n in needles if n and n.lower() in lowered]


def store_violations(collections: dict[str, list[tuple[str, dict[str, Any]]]]) -> list[str]:
    """Collections or fields outside the allowlist of shared/store/base.py."""
    problems = []
    for name, docs in collections.items():
        if name not in FIELDS:
            problems.append(f"unexpected collection {name}")
            continue
        for doc_id, doc in docs:
            extra = set(doc) - FIELDS[name]
            if extra:
                problems.append(f"{name}/{doc_id} has unexpected fields {sorted(extra)}")
    return problems


def dump(collections: dict[str, list[tuple[str, dict[str, Any]]]]) -> str:
    return json.dumps(collections, default=str)
