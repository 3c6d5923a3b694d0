"""What the notify rule writes itself: the test message an admin sends to see a robot work."""

from __future__ import annotations

from plugin.process.wording import SHARED, Wording

WORDING = Wording(
    {
        "zh-CN": {
            "notify.test.title": "crossdept 测试消息",
            "notify.test.line": "群机器人“{channel}”已连通：crossdept 会在这里同步协作任务、升级、延期、会议纪要和周报。",
        },
        "en": {
            "notify.test.title": "crossdept test message",
            "notify.test.line": 'The group robot "{channel}" works: crossdept will post collaboration trees, escalations, delays, minutes and weekly pages here.',
        },
    },
    shared=SHARED,
)
say = WORDING.say
