"""Minutes: a held meeting's minutes in Confluence within 24 hours, each action an item."""
