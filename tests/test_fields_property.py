"""Property: no field extractor raises, whatever JSON the event holds.

Events are generated along the shapes the extractors read (so deep paths
are reached) with arbitrary JSON at every step, plus fully arbitrary objects.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FIELDS, MISSING, ArgKind, FieldType, resolve, to_json, to_text

NAMES = st.sampled_from(
    ["pods", "User", "Group", "ServiceAccount", "/proc", "/proc*", "x", "", "a:1", "watch"]
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    NAMES,
)
ANY = st.recursive(
    LEAF,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6) | NAMES, kids, max_size=4)
    ),
    max_leaves=12,
)


def obj(**fields: Any) -> st.SearchStrategy[Any]:
    """Mostly an object with all or some of ``fields`` (mostly of their shape), else anything."""
    values = {k: st.one_of(v, v, v, ANY) for k, v in fields.items()}
    full = st.fixed_dictionaries(values)
    some = st.fixed_dictionaries({}, optional=values)
    return st.one_of(full, full, some, ANY)


def lists(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    some = st.lists(item, min_size=1, max_size=3)
    return st.one_of(some, some, st.just([]), ANY)


SECURITY = obj(
    privileged=st.booleans(),
    allowPrivilegeEscalation=st.booleans(),
    readOnlyRootFilesystem=st.booleans(),
    runAsUser=st.integers(0, 70000),
    runAsGroup=st.integers(0, 70000),
    procMount=NAMES,
    fsGroup=ANY,
    supplementalGroups=ANY,
    capabilities=obj(add=lists(NAMES), drop=lists(NAMES)),
)
CONTAINER = obj(
    name=NAMES,
    image=st.text(max_size=20),
    command=lists(st.text(max_size=5)),
    args=lists(st.text(max_size=5)),
    ports=lists(obj(hostPort=ANY, containerPort=ANY)),
    securityContext=SECURITY,
)
SPEC = obj(
    containers=lists(CONTAINER),
    initContainers=lists(CONTAINER),
    ephemeralContainers=lists(CONTAINER),
    securityContext=SECURITY,
    volumes=lists(obj(name=NAMES, hostPath=obj(path=NAMES), flexVolume=obj(driver=NAMES))),
    hostNetwork=ANY,
    hostPID=ANY,
    hostIPC=ANY,
    type=ANY,
    ports=lists(ANY),
)
REQUEST_OBJECT = obj(
    spec=SPEC,
    data=ANY,
    roleRef=obj(name=NAMES),
    subjects=lists(obj(kind=NAMES, name=NAMES, namespace=NAMES)),
    rules=lists(
        obj(
            verbs=lists(NAMES),
            resources=lists(NAMES),
            apiGroups=lists(NAMES),
            nonResourceURLs=lists(NAMES),
        )
    ),
)
EVENT = (
    obj(
        auditID=ANY,
        requestObject=REQUEST_OBJECT,
        objectRef=obj(resource=NAMES, subresource=NAMES, name=NAMES, namespace=NAMES),
        responseObject=obj(metadata=obj(name=NAMES)),
        responseStatus=obj(code=ANY, reason=ANY),
        requestURI=st.text(max_size=30).map(lambda q: "/api?" + q),
        user=obj(username=ANY, groups=lists(ANY)),
        impersonatedUser=obj(username=ANY),
        annotations=obj(**{"authorization.k8s.io/decision": ANY, "cluster_name": ANY}),
        sourceIPs=lists(ANY),
    )
    .filter(lambda e: isinstance(e, dict))
    .map(lambda e: {"auditID": "x", **e})
)
TIME_NS = st.integers(min_value=0, max_value=253402300799_999999999)  # up to year 9999

ARGS = {
    ArgKind.INDEX: [None, "0", "1", "3"],
    ArgKind.KEY: [
        "",
        "/",
        "*",
        "/proc*",
        "watch",
        "/requestObject/spec/containers/0/image",
        "requestObject/spec/volumes/+1",
        "/a~0/b~1",
        "x",
    ],
}


def _bindings() -> list[tuple[Any, Any]]:
    out = []
    for f in FIELDS:
        args = [None] if f.arg is None else list(ARGS[f.arg.kind])
        if f.arg is not None and f.arg.required:
            args = [a for a in args if a is not None]
        out.extend((f, resolve(f.name, a)[1]) for a in args)
    return out


BINDINGS = _bindings()
SCALAR_TYPES = {
    FieldType.STRING: str,
    FieldType.UINT64: int,
    FieldType.ABSTIME: int,
    FieldType.BOOL: bool,
}


SETTINGS: dict[str, Any] = {
    "deadline": None,
    "database": None,  # no .hypothesis/ directory in the checkout
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


def _check_all(raw: dict[str, Any], time_ns: int) -> None:
    ev = AuditEvent(raw, time_ns, num=1)
    for fdef, extract in BINDINGS:
        value = extract(ev)
        if value is not MISSING:
            if fdef.is_list:
                assert isinstance(value, list) and all(isinstance(v, str) for v in value), fdef.name
            else:
                assert isinstance(value, SCALAR_TYPES[fdef.type]), fdef.name
        assert isinstance(to_text(value, fdef), str)
        to_json(value, fdef, ev)


@settings(max_examples=300, **SETTINGS)
@given(raw=EVENT, time_ns=TIME_NS)
def test_shaped_events_never_raise(raw: dict[str, Any], time_ns: int) -> None:
    _check_all(raw, time_ns)


@settings(max_examples=150, **SETTINGS)
@given(raw=st.dictionaries(st.text(max_size=12) | NAMES, ANY, max_size=6), with_id=st.booleans())
def test_arbitrary_objects_never_raise(raw: dict[str, Any], with_id: bool) -> None:
    if with_id:
        raw["auditID"] = "x"
    _check_all(raw, 0)
