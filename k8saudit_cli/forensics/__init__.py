"""Forensic commands as a library: extract rows, query events, count groups, write tables.

Each command is a function over input paths and a :class:`Selection`
(time window and a compiled ``--where``); the CLI only parses options and
picks a writer::

    ruleset = load_rules([default_rules_path()])
    where = ConditionCompiler(ruleset.collection).compile("ka.response.code=403", "--where")
    counts = group_counts(["audit.log"], columns_of(["ka.user.name"]), Selection(where.test))
    for row in counts.rows(top=5): print(row)
"""

from k8saudit_cli.forensics.columns import DEFAULT_COLUMNS, Column, column_of, columns_of
from k8saudit_cli.forensics.condition import ConditionCompiler, ConditionProblem, EventCondition
from k8saudit_cli.forensics.extract import SortOptions, extract
from k8saudit_cli.forensics.query import count, query
from k8saudit_cli.forensics.selection import Selection, SelectionStats
from k8saudit_cli.forensics.stats import GroupCounts, group_counts

__all__ = [
    "DEFAULT_COLUMNS",
    "Column",
    "ConditionCompiler",
    "ConditionProblem",
    "EventCondition",
    "GroupCounts",
    "Selection",
    "SelectionStats",
    "SortOptions",
    "column_of",
    "columns_of",
    "count",
    "extract",
    "group_counts",
    "query",
]
