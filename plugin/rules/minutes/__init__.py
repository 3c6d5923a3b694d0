"""Minutes: a held meeting's minutes in Confluence within 24 hours, each action an item.

Other rules may read the `meetings` section (`meeting_rules`, `configured_meetings`) and have a
meeting they filed followed like any other (`note_meeting`); the rest of this folder is the
rule's own.
"""

from plugin.rules.minutes.config import (
    MeetingFields,
    MeetingRules,
    configured_meetings,
    meeting_rules,
)
from plugin.rules.minutes.minutes import note_meeting

__all__ = ["MeetingFields", "MeetingRules", "configured_meetings", "meeting_rules", "note_meeting"]
