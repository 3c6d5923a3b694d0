"""Risk warnings: an owner's warning becomes a tracked 《风险预警表》, and the risk register.

Other rules may read the register (`register_rows`, `render_register`), whether warnings are on
(`risk_rules`) and how to write one (`how_to_warn`); the rest of this folder is the rule's own.
"""

from plugin.rules.risks.config import risk_rules
from plugin.rules.risks.register import RegisterRow, how_to_warn, register_rows, render_register

__all__ = ["RegisterRow", "how_to_warn", "register_rows", "render_register", "risk_rules"]
