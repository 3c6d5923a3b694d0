"""What the minutes rule writes: the page's labels (plain text) and its comments in Jira.

Both languages side by side, Jira wiki markup in comments; entries the rules share (roles, the
escalation label, owner problems) come from plugin.process.wording.
"""

from __future__ import annotations

from plugin.process.wording import SHARED, Wording

WORDING = Wording(
    {
        "zh-CN": {
            "minutes.page.request": "协作需求",
            "minutes.page.topic": "会议主题",
            "minutes.page.time": "会议时间",
            "minutes.page.organiser": "组织者",
            "minutes.page.attendees": "参会人",
            "minutes.page.recorder": "记录人",
            "minutes.page.agenda": "议程",
            "minutes.page.decisions": "决议事项",
            "minutes.page.actions": "待办事项",
            "minutes.page.open": "待定事项",
            "minutes.page.none": "无",
            "minutes.page.owner": "负责人",
            "minutes.page.due": "完成时间",
            "minutes.page.follow_up": "跟进人",
            "minutes.page.follow_up_text": "下次会议前给出结论",
            "minutes.page.footer": "本纪要由 crossdept 根据 Jira {key} 中的会议记录整理。如需修改，请在 Jira 中修改会议记录，crossdept 会更新本页。",
            "minutes.kind": "会议纪要",
            "minutes.published": "h4. 会议纪要已发布：{title}\n{mentions} 本次会议纪要已发布在 Confluence：[{title}|{url}]\n决议 {decisions} 项；待办 {actions} 项，已逐项登记为 Jira 任务；待定 {open} 项。请参会人及所在部门负责人知悉。\n\n_本评论由 crossdept 发送（minutes:{key}）。_",
            "minutes.problems": "h4. 会议纪要：以下待办未能登记\n{lines}\n每条待办需要恰好一位负责人（@提及）和一个完成日期（如 2026-03-10 或 3月10日）。请修改后重新发布（将会议再次置为“已召开”或运行 crossdept minutes {key}）。\n\n_本评论由 crossdept 发送（minutes-problems:{key}）。_",
            "minutes.blocked_fixed": "h4. 会议纪要已发布\n此前阻止发布的问题已解决，纪要已发布（地址见 crossdept 的发布评论）。\n\n_本评论由 crossdept 发送（minutes-blocked:{key}）。_",
            "minutes.problems_fixed": "h4. 会议纪要：待办均已登记\n此前无法登记的待办已修正，全部待办均已登记为任务。\n\n_本评论由 crossdept 发送（minutes-problems:{key}）。_",
            "minutes.problem.no_owner": "没有负责人",
            "minutes.problem.two_owners": "负责人不止一位",
            "minutes.problem.no_date": "没有可识别的完成日期",
            "minutes.problem.over_limit": "超出每次会议的待办上限（meetings.max_actions），未创建任务；请拆分到下次会议或单独建任务",
            "minutes.removed": "h4. 会议纪要：以下待办已从会议记录中移除\n{lines}\n对应的 Jira 任务仍然保留，crossdept 不会删除。如确实不再需要，请负责人在 Jira 中关闭。\n\n_本评论由 crossdept 发送（minutes-removed:{key}）。_",
            "minutes.title_taken": "h4. 会议纪要未发布\nConfluence 空间 {space} 中已有标题为“{title}”的页面，但它不是 crossdept 为本会议创建的，crossdept 不会覆盖它。请重命名该页面或修改本会议的标题，然后重新发布（crossdept minutes {key}）。\n\n_本评论由 crossdept 发送（minutes-blocked:{key}）。_",
            "minutes.refused": "h4. 会议纪要未发布\nConfluence 拒绝了发布请求：{reason}\n请管理员检查 Confluence 空间 {space} 的配置和 crossdept 的权限。\n\n_本评论由 crossdept 发送（minutes-blocked:{key}）。_",
            "minutes.action_description": "会议 {meeting}（{day}）的待办事项。\n\n*待办：* {text}\n*唯一负责人：* {mention}\n*截止日期：* {due}\n*会议纪要：* 见会议 {meeting}。",
            "minutes.short_notice": "h4. 会议通知不足 {notice}\n{mention} 本会议定于 {start} 召开，距现在不足 {notice}。按跨部门协作流程，会议应至少提前 {notice} 通知并附上议程，以便各部门准备。如可能，请调整会议时间。\n\n_本评论由 crossdept 发送（meeting-notice:{key}:{start}）。_",
            "minutes.no_request": "h4. 会议纪要未发布\n本会议没有关联到跨部门协作需求（请把会议建在需求或其阶段之下，或用“关联”链接到需求），crossdept 无法把待办登记到需求下。\n\n_本评论由 crossdept 发送（minutes-blocked:{key}）。_",
            "minutes.action_summary": "【{meeting} 待办】{text}",
            "minutes.overdue": "h4. 会议纪要逾期\n{mention} 本会议于 {start} 召开，纪要应在 {within} 内发布，至今尚未发布。请在本会议中记录决议（决议：）、待办（待办：@负责人 完成日期）和待定事项（待定：），然后把会议置为“{status}”。未回应将按升级规则提醒部门负责人。\n\n_本评论由 crossdept 发送（minutes-overdue:{key}）。_",
            "minutes.no_agenda": "h4. 会议缺少议程\n{mention} 请在本会议的描述中写明议程（讨论事项、需要的决定、各部门需准备的材料），并随会议通知一起发出。\n\n_本评论由 crossdept 发送（meeting-agenda:{key}）。_",
        },
        "en": {
            "minutes.page.request": "Collaboration request",
            "minutes.page.topic": "Topic",
            "minutes.page.time": "Time",
            "minutes.page.organiser": "Organiser",
            "minutes.page.attendees": "Attendees",
            "minutes.page.recorder": "Recorder",
            "minutes.page.agenda": "Agenda",
            "minutes.page.decisions": "Decisions",
            "minutes.page.actions": "Actions",
            "minutes.page.open": "Open points",
            "minutes.page.none": "None",
            "minutes.page.owner": "Owner",
            "minutes.page.due": "Due",
            "minutes.page.follow_up": "Follow-up",
            "minutes.page.follow_up_text": "brings an answer to the next meeting",
            "minutes.page.footer": "crossdept wrote these minutes from what was recorded in Jira {key}. To change them, change the meeting's record in Jira and crossdept updates this page.",
            "minutes.kind": "Minutes",
            "minutes.published": "h4. Minutes published: {title}\n{mentions} the minutes of this meeting are in Confluence: [{title}|{url}]\n{decisions} decisions; {actions} actions, each tracked as a Jira item; {open} open points. For the attendees and their department heads.\n\n_Sent by crossdept (minutes:{key})._",
            "minutes.problems": "h4. Minutes: these actions could not be tracked\n{lines}\nEach action needs exactly one owner (an @mention) and a due date (such as 2026-03-10). Please fix them and publish again (move the meeting to held again, or run crossdept minutes {key}).\n\n_Sent by crossdept (minutes-problems:{key})._",
            "minutes.blocked_fixed": "h4. Minutes published\nWhat kept them from being published is solved; they are published (crossdept's comment on publishing gives the address).\n\n_Sent by crossdept (minutes-blocked:{key})._",
            "minutes.problems_fixed": "h4. Minutes: every action is tracked\nThe actions that could not be tracked were fixed; every action is now a task.\n\n_Sent by crossdept (minutes-problems:{key})._",
            "minutes.problem.no_owner": "no owner",
            "minutes.problem.two_owners": "more than one owner",
            "minutes.problem.no_date": "no due date crossdept can read",
            "minutes.problem.over_limit": "past the meeting's limit of actions (meetings.max_actions): no task was created; split it into another meeting or a task of its own",
            "minutes.removed": "h4. Minutes: these actions were removed from the meeting's record\n{lines}\nTheir Jira items stay; crossdept never deletes them. If one is really no longer needed, its owner can close it in Jira.\n\n_Sent by crossdept (minutes-removed:{key})._",
            "minutes.title_taken": 'h4. Minutes not published\nThe Confluence space {space} already has a page titled "{title}" that crossdept did not create for this meeting, and crossdept will not overwrite it. Please rename that page or this meeting, then publish again (crossdept minutes {key}).\n\n_Sent by crossdept (minutes-blocked:{key})._',
            "minutes.refused": "h4. Minutes not published\nConfluence refused to publish them: {reason}\nAn admin should check the Confluence space {space} and crossdept's permissions there.\n\n_Sent by crossdept (minutes-blocked:{key})._",
            "minutes.action_description": "An action from meeting {meeting} ({day}).\n\n*Action:* {text}\n*Single owner:* {mention}\n*Due:* {due}\n*Minutes:* see meeting {meeting}.",
            "minutes.short_notice": "h4. Less than {notice} notice\n{mention} this meeting starts {start}, less than {notice} from now. The collaboration process asks for at least {notice} notice, with the agenda, so that every department can prepare. Please move it if you can.\n\n_Sent by crossdept (meeting-notice:{key}:{start})._",
            "minutes.no_request": 'h4. Minutes not published\nThis meeting is not linked to a collaboration request (create it under the request or one of its stages, or link it to the request with "relates to"), so crossdept cannot track its actions under the request.\n\n_Sent by crossdept (minutes-blocked:{key})._',
            "minutes.action_summary": "[{meeting} action] {text}",
            "minutes.overdue": 'h4. Minutes overdue\n{mention} this meeting took place {start}; its minutes were due within {within} and are not published yet. Please record the decisions (Decision:), the actions (Action: @owner due date) and the open points (Open:) on this meeting, then move it to "{status}". Without a response the escalation rules reach the department head.\n\n_Sent by crossdept (minutes-overdue:{key})._',
            "minutes.no_agenda": "h4. The meeting has no agenda\n{mention} please write the agenda in this meeting's description (points to discuss, decisions needed, what each department should bring) and send it with the invitation.\n\n_Sent by crossdept (meeting-agenda:{key})._",
        },
    },
    shared=SHARED,
)
say = WORDING.say
say_in = WORDING.say_in
