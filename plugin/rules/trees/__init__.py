"""The stage tree: each collaboration request gets its six stages and deliverables in Jira, exactly once.

Other rules may read which requests have a tree standing (`TreeRecords.built`); the rest of this
folder is the rule's own.
"""

from plugin.rules.trees.tree_records import TreeRecords

__all__ = ["TreeRecords"]
