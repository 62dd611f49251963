"""AKS diagnostic-setting records -> audit payloads.

A diagnostic setting sends the control plane's logs as records
``{"time", "resourceId", "category", "operationName", "properties": {"log",
"stream", "pod", ...}}``: one per line in the storage account's hourly
``PT1H.json`` blobs, ``{"records": [...]}`` per Event Hub message. For the
``kube-audit`` and ``kube-audit-admin`` categories ``properties.log`` is the
API server's event as a JSON string; other categories carry klog text and
are counted as skipped. Storage exports cut ``properties.log`` at 16 KiB,
leaving JSON that ends early: the decoder names that truncation when it
parses the payload (:data:`~k8saudit_cli.formats.items.CUTTING_PROVIDERS`).
"""

from __future__ import annotations

from typing import Any, Final

from k8saudit_cli.formats.items import Item, Payload, Skip

AUDIT_CATEGORIES: Final = frozenset({"kube-audit", "kube-audit-admin"})
#: Where storage exports cut ``properties.log`` (Azure/AKS#4635).
STORAGE_CUT: Final = 16384


def is_record(record: dict[str, Any]) -> bool:
    """Whether an object is a diagnostic-setting record (it has a category and
    properties, or the operation name AKS gives them)."""
    if "properties" in record and ("category" in record or "Category" in record):
        return True
    name = record.get("operationName")
    return isinstance(name, str) and name.startswith("Microsoft.ContainerService/")


def diagnostic_record(record: dict[str, Any]) -> list[Item]:
    """One record: its audit payload, or why it holds none."""
    category = record.get("category", record.get("Category"))
    if category not in AUDIT_CATEGORIES:
        return [Skip("aks_other_category", f"category {category!r}")]
    properties = record.get("properties")
    log = properties.get("log") if isinstance(properties, dict) else None
    if not isinstance(log, str) or not log:
        return [Skip("not_audit_event", f"{category} record without properties.log")]
    return [Payload("aks", log, time=record.get("time"))]
