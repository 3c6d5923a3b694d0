"""The stage tree: each collaboration request gets its six stages and deliverables in Jira, exactly once.

Other rules may read which requests have a tree standing (`TreeRecords.built`) and read a request
as planning does (`request_fields`, `read_request`); the rest of this folder is the rule's own.
"""

from plugin.rules.trees.planning import RequestSnapshot, read_request, request_fields
from plugin.rules.trees.tree_records import TreeRecords

__all__ = ["RequestSnapshot", "TreeRecords", "read_request", "request_fields"]
