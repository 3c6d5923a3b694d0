"""What the escalation rule writes: a reminder or an escalation per step of an ask, and the limits."""

from __future__ import annotations

from plugin.process.wording import SHARED, Wording

WORDING = Wording(
    {
        "zh-CN": {
            "ask.reminder": "h4. 提醒回复：{key}\n{mention} {asker}于 {when} 向您提出的问题已 {hours} 小时未回复（按{clock}计）。请回复，或在本问题中处理；问题较复杂时，请先回复处理进展和预计答复时间：",
            "ask.escalation": "h4. 升级：{key}\n{mention} {asked}于 {when} 被{asker}提问，已 {hours} 小时未回复（按{clock}计），按跨部门协作流程升级至您：",
            "ask.someone": "有人",
            "ask.clock.hours": "自然时间",
            "ask.clock.working_hours": "工作时间",
            "ask.marker": "_本评论由 crossdept 发送（ask:{id}:{step}）。_",
            "ask.over_limit": "h4. 部分提问未计时：{key}\n本问题评论中提到的部分人员没有开始回复计时，crossdept 不会为他们提醒或升级：{reason}。如仍需他们回复，请稍后单独提问，或直接联系。",
            "ask.limit.per_comment": "一条评论最多为 {limit} 人计时",
            "ask.limit.per_author_per_day": "每人的评论 24 小时内最多为 {limit} 人计时",
            "ask.limit.per_issue": "一个问题同时最多有 {limit} 个未回复的提问",
            "ask.limit_marker": "_本评论由 crossdept 发送（ask-limit:{key}）。_",
            "ask.separator": "----",
            "ask.group.escalation.title": "升级：{key} 已超时未回复",
            "ask.group.escalation": "{asked} 于 {when} 被 {asker} 提问，已 {hours} 小时未回复（按{clock}计），按跨部门协作流程升级至部门负责人，请协调处理：",
        },
        "en": {
            "ask.reminder": "h4. Waiting for your answer: {key}\n{mention} {asker} asked you on {when}; {hours} hours ({clock}) without an answer. Please reply, or act on this issue; if it needs longer, reply with your progress and when to expect an answer:",
            "ask.escalation": "h4. Escalated: {key}\n{mention} {asked} was asked by {asker} on {when} and has not answered for {hours} hours ({clock}); the cross-department process escalates it to you:",
            "ask.someone": "someone",
            "ask.clock.hours": "wall-clock hours",
            "ask.clock.working_hours": "working hours",
            "ask.marker": "_Sent by crossdept (ask:{id}:{step})._",
            "ask.over_limit": "h4. Some mentions are not timed: {key}\nSome people mentioned in this issue's comments get no answer clock; crossdept will not remind or escalate for them: {reason}. If you still need their answer, ask them later on their own, or contact them directly.",
            "ask.limit.per_comment": "one comment times at most {limit} people",
            "ask.limit.per_author_per_day": "one person's comments time at most {limit} people in 24 hours",
            "ask.limit.per_issue": "one issue has at most {limit} unanswered asks at a time",
            "ask.limit_marker": "_Sent by crossdept (ask-limit:{key})._",
            "ask.separator": "----",
            "ask.group.escalation.title": "Escalated: {key} is waiting for an answer",
            "ask.group.escalation": "{asked} was asked by {asker} on {when} and has not answered for {hours} hours ({clock}); the cross-department process escalates it to the department head. Please see to it:",
        },
    },
    shared=SHARED,
)
say = WORDING.say
say_in = WORDING.say_in
