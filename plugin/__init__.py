"""crossdept domain: rules, planning, and the Jira and Confluence gateways."""
