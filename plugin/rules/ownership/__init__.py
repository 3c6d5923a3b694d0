"""Ownership: one owner and a due date per item, stages in order, delays marked and told."""
