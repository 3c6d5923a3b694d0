"""A stateful Jira REST API v2 (Cloud or Data Center flavour) for the parts crossdept uses.

Endpoints follow https://developer.atlassian.com/cloud/jira/platform/rest/v2/ and, for Data
Center, https://docs.atlassian.com/software/jira/docs/api/REST/latest/. Every change queues
the webhook Jira would send, through the `emit` callable given at construction.

The fake is one class composed of an area per module: `state` (data, lookups, rendering),
`field_values` and `changelog` (what an edit checks and records),
`meta`, `issues`, `comments`, `properties`, `links`, `users` and `search`; `fake` routes requests
to them; `common` holds the limits, seed tables and helpers they share. An area's endpoints are its
`serve_*` methods, named in `fake`'s route table; whatever one module uses of another is public
(no leading underscore), and `tests/test_layers.py` keeps it so.
"""

from sandbox.jira.common import Notification, adf_to_plain, format_timestamp, plain_to_adf
from sandbox.jira.fake import JiraFake

__all__ = ["JiraFake", "Notification", "adf_to_plain", "format_timestamp", "plain_to_adf"]
