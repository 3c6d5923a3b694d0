"""The meeting cadence: each active request's weekly meeting and the monthly goal-alignment
meetings, filed by crossdept with their agenda, the notice period ahead."""
