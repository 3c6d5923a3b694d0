"""The stage tree rule, as the service composes it."""

from plugin.process.rule import Rule
from plugin.rules.trees import tree_records, trees, wording

RULE = Rule(
    "trees",
    wording.WORDING,
    router=trees.router,
    schedule=trees.schedule,
    tables=(tree_records.tree_requests, tree_records.tree_items),
)
