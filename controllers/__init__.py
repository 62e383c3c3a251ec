"""Controllers: the scheduler and the controllers of kube-controller-manager.

Each controller is an API client only: it lists and watches through the API
server's public HTTP API and acts through it, never through the store, so it
runs against any Kubernetes API server.

The contract between a controller and the manager (``controllers.manager``):

- a controller is a class with a ``name`` (its key below) whose constructor
  takes one argument, the ``ControllerOptions`` of ``controllers.options``;
- ``async def run(self, client, stop)`` runs it until the ``asyncio.Event``
  ``stop`` is set; ``client`` is a ``controllers.client.ControllerClient``
  shared by every controller of the process.

``CONTROLLERS`` maps each name ``--controllers`` knows to "module:Class",
imported only when that controller is enabled (as ``kctl.main.COMMANDS``
does for commands), so one controller's imports never slow another's start.
"""

CONTROLLERS: dict[str, str] = {
    "scheduler": "controllers.scheduler:Scheduler",
    "nodelifecycle": "controllers.nodelifecycle:NodeLifecycleController",
    "tainteviction": "controllers.tainteviction:TaintEvictionController",
    "podgc": "controllers.podgc:PodGCController",
    "deployment": "controllers.deployment:DeploymentController",
    "replicationcontroller": "controllers.replication:ReplicationManager",
    "replicaset": "controllers.replication:ReplicaSetController",
    "garbagecollector": "controllers.garbagecollector:GarbageCollector",
    "endpoints": "controllers.endpoints:EndpointsController",
    "namespace": "controllers.namespace:NamespaceController",
    "serviceaccount": "controllers.serviceaccount:ServiceAccountsController",
}

# Names that "*" leaves off; kube-controller-manager has the same notion
# (bootstrapsigner, tokencleaner). Empty for now: every controller here is
# one a cluster needs.
DISABLED_BY_DEFAULT: frozenset[str] = frozenset()
