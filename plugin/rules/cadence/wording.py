"""What the cadence rule writes: the meetings it files (summary and agenda) and what it says
when Jira refuses one."""

from __future__ import annotations

from plugin.process.wording import SHARED, Wording

WORDING = Wording(
    {
        "zh-CN": {
            "cadence.weekly.summary": "周例会 {day}：{request_summary}",
            "cadence.weekly.agenda": "各部门汇报本周完成情况与未达标原因\n下周计划\n需协调的资源与支持（含延期事项的应对措施）",
            "cadence.weekly.title": "{request} {request_summary} 周例会议程：",
            "cadence.goal.summary": "月度目标对齐会 {month}：{departments}",
            "cadence.goal.agenda": "复盘各部门协作目标的进度与偏差（完成率、阻塞问题）\n为进度滞后的部门协调资源支持\n确认下月目标",
            "cadence.goal.title": "{departments} 月度目标对齐会议程（{month}）：",
            "cadence.how": "会后请将本会议状态改为“{held}”，并在会议结束后 {within}内在本会议中评论纪要，每行一条（决议、待办、待定，待办写明一位负责人和完成日期），crossdept 会将纪要发布到 Confluence。",
            "cadence.goal.untracked": "本会不属于某一协作需求：纪要中的待办不会建为任务，请在相关需求下跟进。",
            "cadence.marker": "_本会议由 crossdept 按会议安排创建（{ref}）。_",
            "cadence.refused": "h4. 周例会未能创建：{period}\n{pm} crossdept 按规则应为本需求创建 {day} 的周例会，但 Jira 拒绝了：{reason}。请联系管理员检查会议的创建界面和字段（组织者、会议时间、参会人）；在此之前请自行安排本周例会。",
        },
        "en": {
            "cadence.weekly.summary": "Weekly meeting {day}: {request_summary}",
            "cadence.weekly.agenda": "Each department's progress this week, and why anything fell short\nNext week's plan\nWhat needs coordinating (including the measures for delayed items)",
            "cadence.weekly.title": "Agenda of the weekly meeting of {request} {request_summary}:",
            "cadence.goal.summary": "Monthly goal alignment {month}: {departments}",
            "cadence.goal.agenda": "Each department's collaboration goals: progress and deviations (completion rate, blockers)\nResources for a department that lags\nNext month's goals",
            "cadence.goal.title": "Agenda of the monthly goal alignment of {departments} ({month}):",
            "cadence.how": 'Afterwards, please move this meeting to "{held}" and comment its minutes here within {within} of its end, one line each (decisions, actions, open points; an action names one owner and a date); crossdept publishes them to Confluence.',
            "cadence.goal.untracked": "This meeting belongs to no collaboration request: its actions do not become items, so please follow them up on the requests they concern.",
            "cadence.marker": "_Filed by crossdept on the meeting cadence ({ref})._",
            "cadence.refused": "h4. Weekly meeting not filed: {period}\n{pm} the rules have crossdept file this request's weekly meeting on {day}, but Jira refused it: {reason}. Please ask an admin to check the meeting's create screen and fields (organiser, start, attendees); until then, please call this week's meeting yourself.",
        },
    },
    shared=SHARED,
)
say = WORDING.say
