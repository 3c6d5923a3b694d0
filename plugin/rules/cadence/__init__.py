"""The meeting cadence: each active request's weekly meeting and the monthly goal-alignment
meetings, filed by crossdept with their agenda, the notice period ahead.

Others may read the section (`cadence_rules`) and preview the next filings (`next_filings`); the
rest of this folder is the rule's own.
"""

from plugin.rules.cadence.config import cadence_rules
from plugin.rules.cadence.occurrences import NextFiling, next_filings

__all__ = ["NextFiling", "cadence_rules", "next_filings"]
