"""Escalation: nobody waits more than 48 hours; reminders, then the head, then the PM."""
