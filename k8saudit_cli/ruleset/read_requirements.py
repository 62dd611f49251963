"""Read ``required_engine_version`` and ``required_plugin_versions`` items.

Only the shape and the version syntax are checked here; whether this engine
satisfies them is the loader's question (after every file is read).
"""

from __future__ import annotations

import re

import yaml

from k8saudit_cli.ruleset.items import EngineVersionReq, PluginRequirement, PluginVersionsReq
from k8saudit_cli.ruleset.node_values import Entries, entries_of, required_scalar
from k8saudit_cli.ruleset.read_context import ItemError, ReadContext
from k8saudit_cli.ruleset.yamlio import mapping_items

SEMVER = re.compile(r"\s*([0-9]+)\.([0-9]+)\.([0-9]+)")
#: Falco reads a bare number with an ASCII-digit parser; ``¹`` is not one.
_BARE = re.compile(r"\s*[0-9]+\s*")
_PLUGINS = "required plugin versions"


def read_engine_version(ctx: ReadContext, node: yaml.MappingNode, e: Entries) -> EngineVersionReq:
    """A bare number ``N`` means ``0.N.0``, as in Falco's first engine versions."""
    vnode = e["required_engine_version"][1]
    text = required_scalar(e, "required_engine_version", node)
    if _BARE.fullmatch(text):
        return EngineVersionReq((0, int(text), 0), text, ctx.pos(vnode))
    m = SEMVER.match(text)
    if not m:
        raise ItemError(
            f"Unable to parse engine version '{text}' as a semver string. Expected "
            '"x.y.z" semver format.',
            vnode,
            "required_engine_version",
        )
    version = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return EngineVersionReq(version, text, ctx.pos(vnode))


def read_plugin_versions(ctx: ReadContext, node: yaml.MappingNode, e: Entries) -> PluginVersionsReq:
    """Each entry is one requirement group: a plugin and its accepted alternatives."""
    seq = e["required_plugin_versions"][1]
    if not isinstance(seq, yaml.SequenceNode):
        raise ItemError("Value of required_plugin_versions must be a sequence", seq, _PLUGINS)
    groups = []
    for entry in seq.value:
        if not isinstance(entry, yaml.MappingNode):
            raise ItemError("Plugin version must be a mapping", entry, _PLUGINS + " entry")
        groups.append(_requirement_group(entry))
    return PluginVersionsReq(groups, ctx.pos(seq))


def _requirement_group(entry: yaml.MappingNode) -> list[PluginRequirement]:
    group = [_plugin_requirement(entry)]
    alts = {k: v for k, _, v in mapping_items(entry)}.get("alternatives")
    if alts is None:
        return group
    if not isinstance(alts, yaml.SequenceNode):
        raise ItemError("Value of plugin version alternatives must be a sequence", alts, _PLUGINS)
    for alt in alts.value:
        if not isinstance(alt, yaml.MappingNode):
            raise ItemError("Plugin version must be a mapping", alt, _PLUGINS + " alternative")
        req = _plugin_requirement(alt)
        if any(r.name == req.name for r in group):
            raise ItemError(  # Falco checks this in its collector: a validation error
                f"Defined multiple alternative version requirements for plugin '{req.name}'",
                alt,
                _PLUGINS,
                "LOAD_ERR_VALIDATE",
            )
        group.append(req)
    return group


def _plugin_requirement(node: yaml.MappingNode) -> PluginRequirement:
    e = entries_of(node)
    name = required_scalar(e, "name", node)
    version = required_scalar(e, "version", node)
    if not SEMVER.match(version):
        raise ItemError(
            f"Invalid required version '{version}' for plugin '{name}'",
            e["version"][1],
            code="LOAD_ERR_VALIDATE",
        )
    return PluginRequirement(name, version)
