"""Reads from Stripe: the current state of one object of a connected account.

The platform key plus the ``Stripe-Account`` header reaches a connected account, so no Stripe token
is ever stored. ``STRIPE_API_BASE`` points the real ``stripe`` library at a local double.
"""

from collections.abc import Callable
from typing import Any

import stripe

from shared.errors import PermanentFailure, RemoteUnavailable

# Stripe object kind -> how to retrieve one of them
_RETRIEVERS: dict[str, Callable[[stripe.StripeClient], Callable[..., Any]]] = {
    "customer": lambda client: client.v1.customers.retrieve,
}


class StripeGateway:
    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        timeout: float = 10.0,
        max_network_retries: int = 1,
    ) -> None:
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=base,  # type: ignore[arg-type]
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=max_network_retries,
        )
        self.calls = 0

    def fetch(self, object_type: str, object_id: str, account: str) -> dict[str, Any]:
        """The object as Stripe has it now (a deleted customer comes back as ``deleted: true``)."""
        retrieve = _RETRIEVERS.get(object_type)
        if retrieve is None:
            raise PermanentFailure(f"unsupported_object_{object_type}")
        self.calls += 1
        try:
            found = retrieve(self._client)(object_id, options={"stripe_account": account})
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise RemoteUnavailable("stripe_unreachable") from exc
        except stripe.AuthenticationError as exc:
            # Our platform key is wrong: every event fails until an operator fixes it, so
            # keep the events (redelivery, then dead letters to replay) rather than drop them.
            raise RemoteUnavailable("stripe_authentication") from exc
        except stripe.PermissionError as exc:
            raise PermanentFailure("stripe_account_access", exc.http_status) from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 403:
                raise PermanentFailure("stripe_account_access", 403) from exc
            code = exc.code or "invalid_request"
            raise PermanentFailure(f"stripe_{code}", exc.http_status) from exc
        except stripe.StripeError as exc:
            raise RemoteUnavailable(f"stripe_{exc.http_status or 'error'}") from exc
        result: dict[str, Any] = found.to_dict()
        return result
