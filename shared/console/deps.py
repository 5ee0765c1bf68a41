"""What the console needs from the outside world, built once per instance (``shared.wiring``'s
``console_deps``) and handed to ``make_app``."""

from dataclasses import dataclass
from typing import Any, Protocol

from shared.accounts.service import Accounts
from shared.accounts.sessions import Session
from shared.clock import Clock
from shared.console import web
from shared.console.backfills import Backfills
from shared.console.readers import Readers
from shared.repair.deps import RepairDeps
from shared.store.base import Store


class Flows(Protocol):
    """The console's side of ``shared.oauth.flows``: start a connection, cut one."""

    def begin(self, provider: str, deps: Any, session: Session, project_id: str) -> str: ...

    def disconnect(self, provider: str, deps: Any, session: Session, project_id: str) -> None: ...


@dataclass
class ConsoleDeps:
    store: Store
    clock: Clock
    accounts: Accounts
    public_url: str
    local: bool
    proxy_hops: int = 0  # 2 behind Google's load balancer; 0 reads REMOTE_ADDR
    flows: Flows | None = None  # shared.oauth.flows; None only in tests that never connect
    oauth: Any = None  # its OAuthDeps
    form_hosts: tuple[str, ...] = web.AUTHORIZE_HOSTS
    # the settings editor's reads of the portal and the subscriptions; None: values only
    readers: Readers | None = None
    # the health, failures and backfill pages: replay and preview; None: those pages say so
    repair: RepairDeps | None = None
    backfills: Backfills | None = None  # starts a backfill and gets it stepped
