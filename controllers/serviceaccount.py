"""The serviceaccount controller: every namespace has a ServiceAccount ``default``.

As kube-controller-manager's (pkg/controller/serviceaccount): a namespace
that appears or changes is given the service accounts it should have and
lacks, and one of those that is deleted is made again. A namespace that is
not Active is left alone: its content is being deleted, and the server would
refuse the create anyway.
https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import quote

from controllers.client import APIError, Conflict
from controllers.informer import Informer
from controllers.workqueue import WorkQueue, process

log = logging.getLogger("controllers.serviceaccount")

# kube-controller-manager ensures this one name in every namespace.
SERVICE_ACCOUNTS = ("default",)
WORKERS = 1  # kube runs this controller with one worker too


class ServiceAccountsController:
    name = "serviceaccount"

    def __init__(self, options):
        self.options = options

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.queue = WorkQueue()
        self.namespaces = Informer(client, "/api/v1/namespaces")
        self.service_accounts = Informer(client, "/api/v1/serviceaccounts")
        self.namespaces.add_handlers(self._namespace_changed,
                                     lambda old, new: self._namespace_changed(new))
        self.service_accounts.add_handlers(on_delete=self._service_account_deleted)
        informers = (self.namespaces, self.service_accounts)
        tasks = [asyncio.create_task(i.run(stop)) for i in informers]
        await asyncio.gather(*(i.wait_synced() for i in informers))
        await process(self.queue, self.sync, stop, WORKERS, self.name)
        await asyncio.gather(*tasks)

    def _namespace_changed(self, namespace: dict) -> None:
        self.queue.add(namespace["metadata"]["name"])

    def _service_account_deleted(self, service_account: dict) -> None:
        meta = service_account["metadata"]
        if meta.get("name") in SERVICE_ACCOUNTS:
            self.queue.add(meta.get("namespace", ""))

    async def sync(self, name: str) -> None:
        namespace = self.namespaces.get("", name)
        if namespace is None:
            return
        if (namespace.get("status") or {}).get("phase") != "Active":
            return

        for account in SERVICE_ACCOUNTS:
            if self.service_accounts.get(name, account) is None:
                await self._create(name, account)

    async def _create(self, namespace: str, account: str) -> None:
        path = f"/api/v1/namespaces/{quote(namespace)}/serviceaccounts"
        body = {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": account}}
        try:
            await self.client.create(path, body)
        except Conflict:
            return  # made meanwhile: the cache had not seen it yet
        except APIError as err:
            if err.code == 403:  # the namespace began terminating meanwhile
                return
            raise
        log.debug("created serviceaccount %s/%s", namespace, account)
