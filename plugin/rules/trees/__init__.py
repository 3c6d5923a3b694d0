"""The stage tree: each collaboration request gets its six stages and deliverables in Jira, exactly once."""
