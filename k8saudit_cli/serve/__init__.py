"""``k8saudit serve``: the live audit webhook receiver.

The API server's webhook backend POSTs batches of audit events; each
accepted batch is appended to a durable archive (:mod:`.archive`) before
the 2xx is sent, and its events feed one long-lived
:class:`~k8saudit_cli.detection_run.DetectionRun` (:mod:`.feed`), so alerts,
``evt.num`` and the end-of-run report behave exactly as in ``scan``.
:func:`k8saudit_cli.serve.app.serve` is the entry point; the modules need
the ``serve`` extra (aiohttp, prometheus-client).
"""
