"""HubSpot tokens at rest: envelope-encrypted, one document per project, never in clear."""

from dataclasses import dataclass

from shared.crypto.envelope import Envelope, Sealed
from shared.errors import NotFound
from shared.store.base import Doc, Store

COLLECTION = "tokens"
ACCESS_FIELD = "hubspot_access_token"
REFRESH_FIELD = "hubspot_refresh_token"


@dataclass(frozen=True)
class HubSpotTokens:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # None: a private-app token that does not expire


def save(store: Store, envelope: Envelope, project_id: str, tokens: HubSpotTokens) -> None:
    doc: Doc = {
        "project_id": project_id,
        ACCESS_FIELD: envelope.seal_text(tokens.access_token, project_id, ACCESS_FIELD).to_doc(),
        "expires_at": tokens.expires_at,
    }
    if tokens.refresh_token:
        doc[REFRESH_FIELD] = envelope.seal_text(
            tokens.refresh_token, project_id, REFRESH_FIELD
        ).to_doc()
    store.put(COLLECTION, project_id, doc)


def load(store: Store, envelope: Envelope, project_id: str) -> HubSpotTokens:
    doc = store.get(COLLECTION, project_id)
    if doc is None:
        raise NotFound("no HubSpot connection for this project")
    access = envelope.open_text(Sealed.from_doc(doc[ACCESS_FIELD]), project_id, ACCESS_FIELD)
    refresh = None
    if doc.get(REFRESH_FIELD):
        refresh = envelope.open_text(Sealed.from_doc(doc[REFRESH_FIELD]), project_id, REFRESH_FIELD)
    return HubSpotTokens(access, refresh, doc.get("expires_at"))


def delete(store: Store, project_id: str) -> None:
    store.delete(COLLECTION, project_id)
