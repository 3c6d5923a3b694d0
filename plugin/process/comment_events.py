"""Comment deliveries, read alike by every rule that acts on a comment: what happened to the
comment, and which issue under enforcement it is on."""

from __future__ import annotations

from plugin.spine.context import Context
from plugin.spine.errors import RefusedError
from plugin.spine.events import JiraEvent

# What a comment delivery says happened. Jira sends two deliveries for each comment: `comment_*`
# and a companion `jira:issue_updated` named by `issue_event_type_name`, with the comment and the
# whole issue. On Data Center the `comment_*` one carries no `issue` at all, only the comment and
# its `self` (.../rest/api/2/issue/10013/comment/12000). Whichever arrives first, or alone, acts;
# the other finds the ask already open (asks are unique per comment and person) or closed.
# Captures: zulip's Jira fixtures (comment_created_no_issue_details.json, commented_v1.json,
# comment_edited_v2.json), mattermost-plugin-jira PR #118, Commit451/skyhook#152.
COMMENT_EVENTS = {
    "comment_created": "created",
    "comment_updated": "edited",
    "comment_deleted": "deleted",
}
COMMENT_ISSUE_EVENTS = {
    "issue_commented": "created",
    "issue_comment_edited": "edited",
    "issue_comment_deleted": "deleted",
}


def comment_change(event: JiraEvent) -> str | None:
    """Say what a delivery did to a comment ("created", "edited", "deleted"), if it is about one."""
    if event.comment is None or not event.comment.id:
        return None
    if event.name in COMMENT_EVENTS:
        return COMMENT_EVENTS[event.name]
    if event.name == "jira:issue_updated" and event.issue_event_type:
        return COMMENT_ISSUE_EVENTS.get(event.issue_event_type)
    return None


def commented_issue(event: JiraEvent, context: Context) -> str | None:
    """The key of the commented issue in a project under enforcement, or None.

    A Data Center `comment_*` delivery names its issue only by id in the comment's address, so
    the issue is read once to learn its key and project.
    """
    if event.issue_key is not None:
        return event.issue_key  # the router admitted its project
    if event.issue_id is None:
        return None
    try:
        issue = context.jira.get_issue(event.issue_id, ["project"])
    except RefusedError as error:
        if error.status == 404:
            return None  # the issue is gone (a delete's comment_deleted comes after it)
        raise
    project = ((issue.get("fields") or {}).get("project") or {}).get("key")
    key = issue.get("key")
    if not key or project not in context.rules.jira.projects:
        return None
    return str(key)
