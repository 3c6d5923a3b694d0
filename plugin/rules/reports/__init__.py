"""Reports: the goal board's figures and page, and the weekly progress table in Confluence."""
