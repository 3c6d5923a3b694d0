"""crossdept doctor and setup: the site checked against the rules, and the safe additions that make it match."""
