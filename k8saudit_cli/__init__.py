"""k8saudit: offline, Falco-compatible detections over Kubernetes audit logs.

The package is a library first: ``k8saudit_cli.detection_run`` runs the pipeline from
any event source, ``k8saudit_cli.ruleset`` loads Falco rule files, and
``k8saudit_cli.cli`` is a thin Click layer over both.
"""

__version__ = "0.1.0"
