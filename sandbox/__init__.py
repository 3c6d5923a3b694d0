"""A stateful stand-in for the Jira and Confluence REST APIs, for tests and the demo."""
