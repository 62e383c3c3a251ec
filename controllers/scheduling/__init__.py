"""The scheduler's parts, each a plain module of pure functions or small classes.

- ``resources``: quantities, a pod's effective requests and host ports;
- ``filters``: the filter plugins and the "0/N nodes are available" message;
- ``score``: least allocated and spreading of one owner's pods;
- ``cache``: nodes and what is bound (or assumed bound) to each.

``controllers.scheduler`` wires them to the API: informers, the queue,
bindings, status and events.
"""
