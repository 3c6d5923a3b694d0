"""The risks rule's part of the rules file: `risks` (how an owner's risk warning is written, who
assesses it and by when, and which levels call for a risk meeting)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from plugin.process.config import Duration, Model, Rules, Section, Text


def _levels() -> list[str]:
    return ["高", "中", "低"]


def _meeting_levels() -> list[str]:
    return ["高"]


class RiskRules(Model):
    """Risk warnings (风险预警表) and the risk register (风险登记表), as the guides set them."""

    levels: list[Text] = Field(
        default_factory=_levels,
        min_length=1,
        description="Risk levels, highest first (the guides: 高 / 中 / 低).",
    )
    default_level: Text = Field(
        default="中", description="The level of a warning that names none; one of `levels`."
    )
    assess_within: int = Field(
        default=1,
        ge=0,
        description="Working days the lead department's head has to assess a warning: the "
        "《风险预警表》 item is due this many working days after the warning.",
    )
    meeting_levels: list[Text] = Field(
        default_factory=_meeting_levels,
        description="Levels at which the project manager is asked to call a risk meeting.",
    )
    meeting_within: Duration = Field(
        default=timedelta(minutes=30),
        description="How soon the risk meeting is to be called (the guides: within 30 minutes).",
    )

    @model_validator(mode="after")
    def _known_levels(self) -> RiskRules:
        unknown = [
            level
            for level in [self.default_level, *self.meeting_levels]
            if level not in self.levels
        ]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} is not one of the levels ({', '.join(self.levels)})"
            )
        return self


SECTION: Section[RiskRules | None] = Section(
    "risks",
    RiskRules | None,
    None,
    "Risk warnings an item's owner writes as a comment, filed as tracked 《风险预警表》 items "
    "and kept in the risk register; off when absent.",
)


def risk_rules(rules: Rules) -> RiskRules | None:
    """The `risks` section, or None when the rules file has none."""
    return SECTION.of(rules)
