"""Association batch calls of the HubSpot gateway (v4): which records are associated, 1,000
records a call, and default associations written 2,000 a call, a call refused for its size split
in two. Sources: the HubSpot changelog "Batch Read Limit for HubSpot Associations API" (1,000
ids since February 2025); docs.workato.com's HubSpot connector, "Associate records (batch)"
(2,000 inputs)."""

from collections.abc import Callable, Iterator, Sequence

from hubspot import HubSpot
from hubspot.crm.associations.v4 import Configuration
from hubspot.crm.associations.v4 import models as am

from shared.hubspot.calls import HubSpotRejected, Reply

MODELS = Configuration()  # shared by the models built here (see ``shared.hubspot.gateway``)
BATCH_LIMIT = 100  # inputs of an object batch call (and the smallest association call split)
ASSOCIATION_READ_LIMIT = 1000
ASSOCIATION_WRITE_LIMIT = 2000


def chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AssociationBatches:
    """Mixed into ``HubSpotGateway``, which provides the client and the paced JSON call."""

    _client: HubSpot
    _run_json: Callable[..., Reply]  # fn, *args -> its answer read as JSON, paced and retried

    def associate(
        self,
        from_type: str,
        to_type: str,
        pairs: Sequence[tuple[str, str]],
        size: int = BATCH_LIMIT,
    ) -> None:
        """Give each (from id, to id) pair HubSpot's default association; repeating is harmless.
        ``size`` inputs a call (at most ``ASSOCIATION_WRITE_LIMIT``); a call refused for its
        size (a 400 on a call of more than 100) is split in two and sent again."""
        for chunk in chunks(sorted(set(pairs)), min(size, ASSOCIATION_WRITE_LIMIT)):
            body = am.BatchInputPublicDefaultAssociationMultiPost(
                inputs=[
                    am.PublicDefaultAssociationMultiPost(
                        _from=am.PublicObjectId(id=a, local_vars_configuration=MODELS),
                        to=am.PublicObjectId(id=b, local_vars_configuration=MODELS),
                        local_vars_configuration=MODELS,
                    )
                    for a, b in chunk
                ],
                local_vars_configuration=MODELS,
            )
            try:
                self._run_json(
                    self._client.crm.associations.v4.batch_api.create_default_with_http_info,
                    from_type,
                    to_type,
                    body,
                )
            except HubSpotRejected as exc:
                if exc.status != 400 or len(chunk) <= BATCH_LIMIT:
                    raise
                self.associate(from_type, to_type, chunk, len(chunk) // 2)

    def associated(
        self, from_type: str, to_type: str, record_ids: Sequence[str]
    ) -> dict[str, set[str]]:
        """The ``to_type`` ids associated with each record, 1,000 records a call (v4 batch
        read; a record without any is answered as an error of the 207, and is simply empty)."""
        found: dict[str, set[str]] = {r: set() for r in record_ids}
        pending = [(r, None) for r in dict.fromkeys(record_ids)]
        while pending:
            chunk, pending = pending[:ASSOCIATION_READ_LIMIT], pending[ASSOCIATION_READ_LIMIT:]
            body = am.BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[
                    am.PublicFetchAssociationsBatchRequest(
                        id=r, after=a, local_vars_configuration=MODELS
                    )
                    for r, a in chunk
                ],
                local_vars_configuration=MODELS,
            )
            reply = self._run_json(
                self._client.crm.associations.v4.batch_api.get_page_with_http_info,
                from_type,
                to_type,
                body,
            )
            for result in (reply.data or {}).get("results") or []:
                record = str(result["_from"]["id"] if "_from" in result else result["from"]["id"])
                found.setdefault(record, set()).update(
                    str(t["toObjectId"]) for t in result.get("to") or []
                )
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:  # more than a page of associations: ask again from there
                    pending.append((record, after))
        return found
