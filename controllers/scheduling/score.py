"""Scores of feasible nodes: higher is better, each plugin from 0 to 100.

- least allocated (NodeResourcesFit's default strategy): the free fraction of
  cpu and memory after placing the pod, averaged, with unset requests counted
  as the scheduler's defaults so BestEffort pods spread too;
- spreading of one owner's pods (the default PodTopologySpread constraint
  over hostnames, in its simple form): fewer pods of the same controller on
  a node score higher.
"""

from __future__ import annotations

import random

from controllers.scheduling.cache import NodeInfo
from controllers.scheduling.filters import PodInfo

MAX_SCORE = 100


def least_allocated(pod: PodInfo, node: NodeInfo) -> float:
    total = 0.0
    cpu = node.nonzero_cpu + pod.request.nonzero_cpu
    memory = node.nonzero_memory + pod.request.nonzero_memory
    for allocatable, requested in ((node.allocatable.get("cpu", 0), cpu),
                                   (node.allocatable.get("memory", 0), memory)):
        if allocatable > 0 and requested <= allocatable:
            total += (allocatable - requested) * MAX_SCORE / allocatable
    return total / 2


def spread(pod: PodInfo, nodes: list[NodeInfo]) -> list[float]:
    owner = pod.request.owner
    if not owner:
        return [0.0] * len(nodes)
    counts = [node.owners.get(owner, 0) for node in nodes]
    most = max(counts)
    if most == 0:
        return [float(MAX_SCORE)] * len(nodes)
    return [(most - count) * MAX_SCORE / most for count in counts]


def best_node(pod: PodInfo, nodes: list[NodeInfo]) -> NodeInfo:
    """The feasible node with the highest total score; ties at random."""
    spreads = spread(pod, nodes)
    best: list[NodeInfo] = []
    top = -1.0
    for node, spread_score in zip(nodes, spreads):
        score = least_allocated(pod, node) + spread_score
        if score > top + 1e-9:
            top, best = score, [node]
        elif score >= top - 1e-9:
            best.append(node)
    return random.choice(best)
