"""The process model the rules share: the rules file, the calendar, people and departments, asks, wording, notices."""
