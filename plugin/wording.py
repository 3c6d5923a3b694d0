"""Everything crossdept writes for people, in both languages: one catalog, looked up by `say`.

Rules never build user-visible sentences inline: they name a catalog entry and fill it in, so
every text exists in zh-CN and en side by side and reads as one careful project manager wrote it.
"""

from __future__ import annotations

from typing import Any

from plugin.rules import Rules

# One catalog per language, entries named `area.what`. Jira wiki markup (REST v2) throughout.
CATALOG: dict[str, dict[str, str]] = {
    "zh-CN": {
        "epic_summary": "【{key} {topic}】跨部门协作",
        "stage_summary": "【{key} {topic}】阶段{number} {name}",
        "deliverable_summary": "{name}",
        "deliverable_department_summary": "{name} — {department}",
        "role.head": "{department} 负责人",
        "role.contact": "{department} 接口人",
        "role.requester": "{department} 需求提出人",
        "role.pm": "项目经理",
        "heading.epic": "跨部门协作：{topic}",
        "heading.stage": "阶段{number}：{name}",
        "heading.deliverable": "输出物：{name}",
        "line.request": "*协作需求：* {key} {topic}",
        "line.stage": "*所属阶段：* 阶段{number} {name}",
        "line.owner": "*唯一负责人：* {mention}（{role}）。配合部门只配合，不构成第二负责人。",
        "line.due": "*截止日期：* {due}",
        "why.epic": "整个协作的截止日期；各阶段依次推进。",
        "why.stage_first": "需求开始日（{origin}）后第 {days} 个工作日。",
        "why.stage_next": "上一阶段截止日（{origin}）后第 {days} 个工作日；上一阶段完成前本阶段不得开始。",
        "why.deliverable": "阶段起点后第 {days} 个工作日，不晚于阶段截止日。",
        "line.meeting": "*会议：* {kind}，时长 {low}–{high} 分钟。",
        "line.signoff": "*签字规则：* 每个参与部门的负责人各自签字确认（每个部门一个子任务），全部签字后本阶段方可完成。",
        "line.fanout": "*分工规则：* 每个参与部门由其{role}负责本部门的部分（每个部门一个子任务）。",
        "line.warn": "*预警：* 如预计延期，请在截止前 {warn} 提出风险预警（风险类型、影响、应对方案）。",
        "line.calendar": "工作日按 {calendar} 工作日历计算（含法定节假日与调休）。",
        "line.calendar_plain": "工作日按配置的工作日历计算。",
        "line.marker": "_由 crossdept 根据协作规则创建（{ref}）。_",
        "problem.no_requesting": "需求部门（字段 {field}）未填写：请选择需求部门后再编辑本需求。",
        "problem.no_departments": "协作部门（字段 {field}）未填写：请至少选择一个协作部门后再编辑本需求。",
        "problem.unknown_department": "部门“{department}”不在协作规则中（已知部门：{known}）：请改选已知部门，或请管理员在规则文件 departments 中添加该部门。",
        "problem.no_reporter": "本需求没有报告人，无法确定需求提出人：请设置报告人。",
        "problem.no_pm": "未指定项目经理：请填写项目经理字段，或请管理员在规则文件中设置 project_manager。",
        "problem.unknown_owner": "规则中的负责人“{owner}”无法解析（阶段{number}）：请管理员修正规则文件。",
        "problem.too_late": "按协作规则，整套任务需要到 {needed} 才能完成（开始于 {start}），但本需求的截止日期是 {due}：请把截止日期推后到 {needed} 或更晚，或提前开始日期；未创建任何任务。",
        "problem.no_start": "本需求没有开始日期也没有创建日期，无法计算截止日期：请填写开始日期。",
        "problem.bad_date": "日期字段 {field} 的值“{value}”无法识别：请使用 YYYY-MM-DD。",
        # The stage tree rule (plugin.trees): problems, refusals and the request's summary.
        "tree.problems": "crossdept 无法为 {key} 创建协作任务，未创建任何任务：",
        "tree.problems_fix": "修正后编辑本需求（或由管理员运行 crossdept apply {key}），即会创建全部任务。",
        "tree.refused": "crossdept 已为 {key} 创建 {created} 项任务，但 Jira 拒绝了以下 {count} 项：",
        "tree.refused_item": "{summary}（{ref}）：{reason}",
        "tree.skipped_item": "{summary}（{ref}）：其上级未能创建",
        "tree.refused_fix": "修正后编辑本需求（或由管理员运行 crossdept apply {key}），将只补建缺少的项。",
        "tree.missing_type": "项目 {project} 没有问题类型“{name}”：请项目管理员添加该类型，或修改规则文件中的 {setting}。",
        "tree.not_subtask": "问题类型“{name}”不是子任务类型：请修改规则文件中的 jira.issue_types.deliverable。",
        "tree.missing_user": "Jira 中找不到{role}的账号“{account}”：请管理员修正规则文件中的人员，或修正本需求中的人员字段。",
        "tree.no_epic_link": "在 Jira Data Center 上找不到 Epic Link 字段：请在规则文件中设置 jira.epic_link_field。",
        "tree.summary_heading": "h3. 协作任务已建立：{key} {topic}",
        "tree.summary_intro": "crossdept 已按跨部门协作流程为本需求建立 {count} 项任务，分 {stages} 个阶段，每项任务都有唯一负责人和截止日期。各阶段如下：",
        "tree.summary_columns": "||阶段||任务||负责人||截止日期||",
        "tree.summary_stage": "阶段{number} {name}",
        "tree.summary_rest": "各阶段的 {deliverables} 项输出物任务挂在对应阶段任务之下：[查看全部 {count} 项任务|{url}]",
        "tree.summary_deleted": "以下任务已在 Jira 中被删除，crossdept 不会重建（如需重建，请管理员运行 crossdept apply {key} --recreate-deleted）：{items}",
        "tree.summary_marker": "_本评论由 crossdept 维护，任务树变化时会更新（tree:{key}）。_",
        # The ownership rule (plugin.ownership): one comment per item while it breaks a rule.
        "ownership.heading": "h4. 协作规则提醒：{key}",
        "ownership.to_actor": "{mention} 本次修改后，本任务不符合以下协作规则：",
        "ownership.single_owner": "没有负责人：每项任务必须有且只有一个负责人（唯一负责人，避免责任真空）。请把经办人设为负责此事的人。",
        "ownership.owner_in_department": "负责人不属于{department}：本部门的任务只能由{department}的负责人、接口人或成员负责，配合部门不构成第二负责人。请改派给{department}的人员。",
        "ownership.due_date": "没有截止日期：每项任务都必须有截止日期。请填写截止日期。",
        "ownership.due_on_workday": "截止日期 {due} 不是工作日（按工作日历，含法定节假日与调休）。请改为工作日，例如 {next}。",
        "ownership.due_within_parent": "截止日期 {due} 晚于上级任务 {parent} 的截止日期 {parent_due}：子任务不得晚于上级任务。请提前截止日期，或与 {parent} 的负责人商定推迟 {parent}。",
        "ownership.due_after_stage_start": "截止日期 {due} 早于所属阶段的开始日 {start}：各阶段依次推进。请把截止日期改到 {start} 或之后。",
        "ownership.rule": "依据：跨部门协作流程（每项任务一个负责人、一个截止日期）。修正后本评论会自动更新。",
        "ownership.marker": "_本评论由 crossdept 维护（ownership:{key}）。_",
        "ownership.fixed": "h4. 已符合协作规则：{key}\n此前的问题已修正（{checks}），谢谢！",
        "ownership.name.single_owner": "负责人",
        "ownership.name.owner_in_department": "负责人所属部门",
        "ownership.name.due_date": "截止日期",
        "ownership.name.due_on_workday": "截止日期为工作日",
        "ownership.name.due_within_parent": "不晚于上级任务",
        "ownership.name.due_after_stage_start": "不早于阶段开始",
        "ownership.label": "crossdept-违规",
        # The escalation rule (plugin.escalation): a reminder or an escalation per step of an ask.
        "ask.reminder": "h4. 提醒回复：{key}\n{mention} {asker}于 {when} 向您提出的问题已 {hours} 小时未回复（按{clock}计）。请回复，或在本问题中处理：",
        "ask.escalation": "h4. 升级：{key}\n{mention} {asked}于 {when} 被{asker}提问，已 {hours} 小时未回复（按{clock}计），按跨部门协作流程升级至您：",
        "ask.someone": "有人",
        "ask.clock.hours": "自然时间",
        "ask.clock.working_hours": "工作时间",
        "ask.marker": "_本评论由 crossdept 发送（ask:{id}:{step}）。_",
        "ask.label": "crossdept-催办",
        "validator.single_owner": "每项任务必须有一个负责人：请设置经办人。",
        "validator.owner_in_department": "本部门的任务只能由该部门的负责人、接口人或成员负责：请改派给该部门的人员。",
        "validator.due_date": "每项任务都必须有截止日期：请填写截止日期。",
        "validator.due_on_workday": "截止日期必须是工作日（含法定节假日与调休）：请改为工作日。",
        "validator.due_within_parent": "子任务的截止日期不得晚于上级任务：请提前截止日期。",
        # The stage gate (plugin.stage_gate): one comment per item started too early.
        "gate.heading": "h4. 阶段顺序：{key}",
        "gate.reverted": "{mention} 前面的阶段尚未完成，本任务还不能开始，crossdept 已把它移回“{status}”。",
        "gate.warned": "{mention} 前面的阶段尚未完成，本任务还不应开始。",
        "gate.no_way_back": "{mention} 前面的阶段尚未完成，本任务还不应开始。工作流中没有回到“{status}”的转换，crossdept 只能提醒。",
        "gate.again": "{mention} 您再次开始了本任务：crossdept 不再把它移回，请与项目经理确认提前开始。",
        "gate.blocking": "前序阶段尚未完成的任务：",
        "gate.item": "阶段{number}：{key} {summary}（{status}）",
        "gate.rule": "依据：跨部门协作流程，各阶段依次推进，前一阶段完成后下一阶段方可开始。",
        "gate.marker": "_本评论由 crossdept 维护（stage-gate:{key}）。_",
        "gate.cleared": "h4. 阶段顺序：{key}\n前序阶段已全部完成，本任务可以开始。",
        "delays.label": "延期",
        "delays.remind": "h4. 即将到期：{key}\n{mention} 本任务将于 {due} 到期。如预计不能按时完成，请现在（截止前 {warn}）在本任务中提出风险预警：风险类型、影响、应对方案。\n\n_本评论由 crossdept 发送（delays:{key}:{due}）。_",
        "delays.tell_pm": "h4. 延期超过 {limit} 个工作日：{key}\n{mention} 本任务已于 {due} 到期，至今延期 {days} 个工作日，负责人：{owner}。请项目经理介入，与负责人确定原因和补救措施。\n\n_本评论由 crossdept 发送（delays-pm:{key}:{due}）。_",
    },
    "en": {
        "epic_summary": "[{key} {topic}] Cross-department collaboration",
        "stage_summary": "[{key} {topic}] Stage {number}: {name}",
        "deliverable_summary": "{name}",
        "deliverable_department_summary": "{name} — {department}",
        "role.head": "{department} head",
        "role.contact": "{department} contact",
        "role.requester": "{department} requester",
        "role.pm": "project manager",
        "heading.epic": "Cross-department collaboration: {topic}",
        "heading.stage": "Stage {number}: {name}",
        "heading.deliverable": "Deliverable: {name}",
        "line.request": "*Request:* {key} {topic}",
        "line.stage": "*Stage:* {number} {name}",
        "line.owner": "*Single owner:* {mention} ({role}). Supporting departments help; they are never a second owner.",
        "line.due": "*Due:* {due}",
        "why.epic": "The due date of the whole collaboration; stages run in order.",
        "why.stage_first": "{days} working days after the request's start ({origin}).",
        "why.stage_next": "{days} working days after the previous stage's due date ({origin}); this stage starts only when the previous one is done.",
        "why.deliverable": "{days} working days into the stage, never after the stage's due date.",
        "line.meeting": "*Meeting:* {kind}, {low}–{high} minutes.",
        "line.signoff": "*Sign-off:* the head of every participating department signs separately (one sub-task each); the stage is done when all have signed.",
        "line.fanout": "*Split:* each participating department's {role} owns that department's part (one sub-task each).",
        "line.warn": "*Early warning:* if you expect a delay, raise a risk warning {warn} before the due date (risk, impact, proposed solution).",
        "line.calendar": "Working days follow the {calendar} calendar, public holidays and adjusted working days included.",
        "line.calendar_plain": "Working days follow the configured working calendar.",
        "line.marker": "_Created by crossdept from the collaboration rules ({ref})._",
        "problem.no_requesting": "The requesting department (field {field}) is empty: choose it, then edit this request again.",
        "problem.no_departments": "The collaborating departments (field {field}) are empty: choose at least one, then edit this request again.",
        "problem.unknown_department": 'The department "{department}" is not in the collaboration rules (known: {known}): choose a known department, or ask an admin to add it under departments in the rules file.',
        "problem.no_reporter": "This request has no reporter, so nobody is its requester: set the reporter.",
        "problem.no_pm": "No project manager is named: fill in the project manager field, or ask an admin to set project_manager in the rules file.",
        "problem.unknown_owner": 'The owner "{owner}" in the rules (stage {number}) cannot be resolved: ask an admin to fix the rules file.',
        "problem.too_late": "The collaboration rules need until {needed} to finish (starting {start}), but this request is due {due}: move the due date to {needed} or later, or start earlier. Nothing was created.",
        "problem.no_start": "This request has neither a start date nor a created date, so no due date can be computed: fill in the start date.",
        "problem.bad_date": 'The date field {field} holds "{value}", which is not a date: use YYYY-MM-DD.',
        # The stage tree rule (plugin.trees): problems, refusals and the request's summary.
        "tree.problems": "crossdept cannot create the collaboration tree of {key}; nothing was created:",
        "tree.problems_fix": "Fix this and edit the request (or have an admin run crossdept apply {key}) to build the whole tree.",
        "tree.refused": "crossdept created {created} items for {key}, but Jira refused these {count}:",
        "tree.refused_item": "{summary} ({ref}): {reason}",
        "tree.skipped_item": "{summary} ({ref}): its parent could not be created",
        "tree.refused_fix": "Fix this and edit the request (or have an admin run crossdept apply {key}) to add only what is missing.",
        "tree.missing_type": 'Project {project} has no issue type "{name}": ask a project admin to add it, or change {setting} in the rules file.',
        "tree.not_subtask": 'The issue type "{name}" is not a sub-task type: change jira.issue_types.deliverable in the rules file.',
        "tree.missing_user": 'Jira does not know the account "{account}" ({role}): ask an admin to fix that person in the rules file, or fix the people fields of this request.',
        "tree.no_epic_link": "No Epic Link field was found on Jira Data Center: set jira.epic_link_field in the rules file.",
        "tree.summary_heading": "h3. Collaboration items set up: {key} {topic}",
        "tree.summary_intro": "crossdept has set up {count} items for this request in {stages} stages, following the cross-department process; each item has exactly one owner and a due date. The stages:",
        "tree.summary_columns": "||Stage||Item||Owner||Due||",
        "tree.summary_stage": "Stage {number}: {name}",
        "tree.summary_rest": "The {deliverables} deliverable items sit under their stage: [see all {count} items|{url}]",
        "tree.summary_deleted": "These items were deleted in Jira and crossdept will not create them again (an admin can run crossdept apply {key} --recreate-deleted): {items}",
        "tree.summary_marker": "_crossdept keeps this comment up to date when the tree changes (tree:{key})._",
        # The ownership rule (plugin.ownership): one comment per item while it breaks a rule.
        "ownership.heading": "h4. Collaboration rules: {key}",
        "ownership.to_actor": "{mention}, after your change this item breaks these collaboration rules:",
        "ownership.single_owner": "No owner: every item has exactly one owner, so that someone is responsible. Set the assignee to the person who owns it.",
        "ownership.owner_in_department": "The owner is not in {department}: a department's item is owned by its head, contact or members; supporting departments are never a second owner. Assign it to someone in {department}.",
        "ownership.due_date": "No due date: every item needs one. Set the due date.",
        "ownership.due_on_workday": "The due date {due} is not a working day on the working calendar (public holidays and adjusted working days included). Move it to a working day, e.g. {next}.",
        "ownership.due_within_parent": "The due date {due} is after {parent}'s due date {parent_due}: no child is due after its parent. Bring it forward, or agree with {parent}'s owner to move {parent}.",
        "ownership.due_after_stage_start": "The due date {due} is before its stage starts ({start}): stages run in order. Move it to {start} or later.",
        "ownership.rule": "The rule: the cross-department process (one owner and one due date for every item). This comment updates itself once this is fixed.",
        "ownership.marker": "_crossdept keeps this comment up to date (ownership:{key})._",
        "ownership.fixed": "h4. Collaboration rules kept: {key}\nFixed ({checks}). Thank you!",
        "ownership.name.single_owner": "owner",
        "ownership.name.owner_in_department": "owner's department",
        "ownership.name.due_date": "due date",
        "ownership.name.due_on_workday": "due on a working day",
        "ownership.name.due_within_parent": "not after the parent",
        "ownership.name.due_after_stage_start": "not before the stage starts",
        "ownership.label": "crossdept-violation",
        # The escalation rule (plugin.escalation): a reminder or an escalation per step of an ask.
        "ask.reminder": "h4. Waiting for your answer: {key}\n{mention} {asker} asked you on {when}; {hours} hours ({clock}) without an answer. Please reply, or act on this issue:",
        "ask.escalation": "h4. Escalated: {key}\n{mention} {asked} was asked by {asker} on {when} and has not answered for {hours} hours ({clock}); the cross-department process escalates it to you:",
        "ask.someone": "someone",
        "ask.clock.hours": "wall-clock hours",
        "ask.clock.working_hours": "working hours",
        "ask.marker": "_Sent by crossdept (ask:{id}:{step})._",
        "ask.label": "crossdept-escalated",
        "validator.single_owner": "Every item needs one owner: set the assignee.",
        "validator.owner_in_department": "A department's item is owned by its head, contact or members: assign it to someone in that department.",
        "validator.due_date": "Every item needs a due date: set it.",
        "validator.due_on_workday": "The due date must be a working day (public holidays and adjusted working days included): move it to one.",
        "validator.due_within_parent": "No child is due after its parent: bring the due date forward.",
        # The stage gate (plugin.stage_gate): one comment per item started too early.
        "gate.heading": "h4. Stages run in order: {key}",
        "gate.reverted": '{mention} an earlier stage is not done, so this item cannot start yet; crossdept moved it back to "{status}".',
        "gate.warned": "{mention} an earlier stage is not done, so this item should not start yet.",
        "gate.no_way_back": '{mention} an earlier stage is not done, so this item should not start yet. Its workflow has no way back to "{status}", so crossdept can only say so.',
        "gate.again": "{mention} you started this item again: crossdept will not move it back; please agree the early start with the project manager.",
        "gate.blocking": "Not done yet in earlier stages:",
        "gate.item": "Stage {number}: {key} {summary} ({status})",
        "gate.rule": "The rule: the cross-department process runs its stages in order; a stage starts when the one before it is done.",
        "gate.marker": "_crossdept keeps this comment up to date (stage-gate:{key})._",
        "gate.cleared": "h4. Stages run in order: {key}\nThe earlier stages are done; this item may start.",
        "delays.label": "delayed",
        "delays.remind": "h4. Due soon: {key}\n{mention} this item is due {due}. If you expect to miss it, raise a risk warning here now ({warn} before the due date): the risk, its impact, and your plan.\n\n_Sent by crossdept (delays:{key}:{due})._",
        "delays.tell_pm": "h4. More than {limit} working days late: {key}\n{mention} this item was due {due} and is {days} working days late; owner: {owner}. Please step in with the owner on the cause and the measures.\n\n_Sent by crossdept (delays-pm:{key}:{due})._",
    },
}


def say(rules: Rules, entry: str, **values: Any) -> str:
    """Return one catalog entry in the rules' language, filled in."""
    return CATALOG[rules.language][entry].format(**values)


def department_name(rules: Rules, key: str) -> str:
    """A department's name in the configured language."""
    department = rules.departments.get(key)
    return rules.text(key, department.name_en if department else None)


def join_names(rules: Rules, names: list[str]) -> str:
    """A list of names as the language writes one: 甲、乙 or A, B."""
    return ("、" if rules.language == "zh-CN" else ", ").join(names)


def mention(account: str, *, cloud: bool) -> str:
    """Mention a person in wiki markup: [~accountid:...] on Cloud, [~username] on Data Center.

    https://developer.atlassian.com/cloud/jira/platform/apis/document/nodes/mention
    """
    return f"[~accountid:{account}]" if cloud else f"[~{account}]"
