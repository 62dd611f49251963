"""Scans on a Dask cluster: the chunks of ``--jobs`` as tasks, merged into one run's output.

* :mod:`~k8saudit_cli.cluster.connect`: ``--cluster ADDRESS`` or ``local:N`` -> a client.
* :mod:`~k8saudit_cli.cluster.rulespec`: the rules as file texts, rebuilt on each worker.
* :mod:`~k8saudit_cli.cluster.tasks`: what a worker runs for one chunk.
* :mod:`~k8saudit_cli.cluster.ordered`: tasks in a bounded window, results in input order.
* :mod:`~k8saudit_cli.cluster.scan`: a detection run's chunks on the cluster.

``dask[distributed]`` is imported only when a cluster is used.
"""

from k8saudit_cli.cluster.connect import ClusterError, Connection, connect, connected
from k8saudit_cli.cluster.rulespec import RulesDiffer, RuleSpec
from k8saudit_cli.cluster.scan import CHUNK_BYTES, ClusterScan

__all__ = [
    "CHUNK_BYTES",
    "ClusterError",
    "ClusterScan",
    "Connection",
    "RuleSpec",
    "RulesDiffer",
    "connect",
    "connected",
]
