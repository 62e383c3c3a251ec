"""The container runtime of the node agent: containers as local process groups."""
