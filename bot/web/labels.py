"""Chinese words for the codes the board stores: audit actions, channels, actors, targets, notice
scopes. People read the board; ``web.login``, ``kind:city`` and ``person:8`` are for machines.

A code with no label here (an action added later) is shown as it is rather than hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime

from bot.services.people import ROLE_NAMES
from bot.services.units import KIND_NAMES

ACTIONS = {
    "web.login": "登录看板", "web.login_failed": "登录失败", "web.logout": "退出看板",
    "web.view_link": "生成只读链接", "unit.view_link": "生成只读链接",
    "unit.import": "导入单位名册", "unit.invite": "生成单位邀请码",
    "person.add": "登记人员", "person.invite": "邀请人员", "person.edit": "修改人员信息",
    "person.passwd": "设置密码", "person.remove": "移除人员",
    "person.bind": "绑定单位", "person.bind_request": "申请绑定单位",
    "person.bind_approve": "批准绑定单位", "person.unlink": "解除公众号绑定",
    "person.unsubscribe": "取消关注公众号",
    "group.add": "登记群", "group.edit": "修改群", "group.remove": "移除群",
    "task.create": "发布任务", "task.edit": "修改任务", "task.cancel": "撤销任务",
    "submission.create": "报送材料", "submission.accept": "审核通过",
    "submission.return": "退回报送",
    "flag.override": "改旗", "flag.innovation": "记创新举措", "flag.incident": "记执法问题",
    "notice.send": "发送通知", "notice.ack": "确认收到通知",
    "bulletin.draft": "生成通报草稿", "bulletin.publish": "发布通报",
    "dynamic.create": "提交工作动态", "dynamic.publish": "发布工作动态",
    "dynamic.feature": "精选工作动态",
    "schedule.digest": "生成每日摘要", "wechat.menu": "设置公众号菜单",
    "document.draft": "起草公文", "document.issue": "签发公文",
    "backup.create": "备份数据", "backup.daily": "每日自动备份", "backup.restore": "恢复数据",
}
CHANNELS = {"web": "看板", "chat": "群聊/私聊", "cli": "命令行", "system": "系统",
            "wechat": "公众号", "api": "接口"}
DETAIL_KEYS = {
    "added": "新增", "updated": "更新", "address": "来源地址", "login": "账号",
    "bulletin": "通报", "buttons": "菜单", "days": "有效天数", "uses": "可用次数",
    "groups": "群数", "identity": "账号", "role": "角色", "unit": "单位", "reason": "原因",
    "via": "方式", "kind": "类别", "messages": "消息数", "period": "时段", "rating": "评价",
    "request": "申请编号", "targets": "范围", "remind": "提醒", "task": "任务", "version": "版本",
    "title": "标题", "due": "截止", "pictures": "图片数", "purpose": "用途", "units": "单位数",
    "removed": "已删除",
}
BULLETIN_KINDS = {"weekly": "周通报", "halfyear": "半年报告", "letter": "督导建议书",
                  "digest": "每日摘要"}
_VALUES = {
    "kind": BULLETIN_KINDS, "role": ROLE_NAMES, "purpose": {"exchange": "交流群", "admin": "管理群"},
    "via": {"qrcode": "扫码"},
}
# Records named by number in the audit log's target column.
_NUMBERED = {"submission": "报送", "notice": "通知", "bulletin": "通报", "dynamic": "工作动态",
             "bind_request": "绑定申请", "document": "公文"}
_REF = re.compile(r"^([a-z_]+):(\d+)$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def action(code: str) -> str:
    return ACTIONS.get(code, code)


def channel(code: str) -> str:
    return CHANNELS.get(code, code)


def actor(code: str, names: Mapping[str, str]) -> str:
    if code in names:
        return names[code]
    if code.startswith("person:"):
        return f"人员 #{code.removeprefix('person:')}（已不在名册）"
    if code.startswith("cli:"):
        return f"命令行（{code.removeprefix('cli:')}）"
    return {"system": "系统", "anonymous": "未登录的访问"}.get(code, code)


def target(code: str, names: Mapping[str, str]) -> str:
    if code in names:
        return f"任务“{names[code]}”" if code.startswith("task:") else names[code]
    m = _REF.match(code)
    if m and m.group(1) in _NUMBERED:
        return f"{_NUMBERED[m.group(1)]} #{m.group(2)}"
    if m and m.group(1) in ("person", "unit", "task"):
        kind = {"person": "人员", "unit": "单位", "task": "任务"}[m.group(1)]
        return f"{kind} #{m.group(2)}（已删除）"
    if code.startswith("mp:"):
        return f"公众号 {code.removeprefix('mp:')}"
    return {"login": "看板登录"}.get(code, code)


def scope(spec: str, names: Mapping[str, str]) -> str:
    """A notice's or task's scope (``all``, ``kind:city``, ``郑州市,开封市``, group chats)."""
    spec = (spec or "").strip()
    if spec in ("", "all"):
        return "全部单位"
    if spec.startswith("kind:"):
        kind = spec.removeprefix("kind:")
        return f"全部{KIND_NAMES[kind]}" if kind in KIND_NAMES else spec
    parts = [p.strip() for p in spec.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    return "、".join(names.get(p, p) for p in parts)


def detail(key: str, value: object, names: Mapping[str, str],
           fmt: Callable[[datetime], str]) -> tuple[str, str]:
    """(label, shown value) of one entry of an audit row's detail."""
    label = DETAIL_KEYS.get(key, key)
    if isinstance(value, bool):
        return label, "是" if value else "否"
    if key in ("unit", "task") and isinstance(value, int):
        return label, names.get(f"{key}:{value}", f"#{value}")
    if key == "targets" and isinstance(value, str):
        return label, scope(value, names)
    if key in _VALUES and isinstance(value, str):
        return label, _VALUES[key].get(value, value)
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:  # a stored ISO time: shown in the service's zone, to the minute
            moment = datetime.fromisoformat(value)
        except ValueError:
            return label, value
        return label, fmt(moment) if moment.tzinfo else value
    if isinstance(value, list):
        return label, "、".join(str(v) for v in value)
    return label, str(value)


def references(actor_code: str, target_code: str, detail_items: Mapping[str, object]
               ) -> set[str]:
    """The codes in one audit row whose names the page needs."""
    refs = {actor_code, target_code}
    for key in ("unit", "task"):
        value = detail_items.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            refs.add(f"{key}:{value}")
    targets = detail_items.get("targets")
    if isinstance(targets, str):
        refs.update(p.strip() for p in targets.split(","))
    return refs


def due_note(due: date, today: date) -> str:
    """How far a deadline is, in calendar days of the service's zone."""
    days = (due - today).days
    if days > 0:
        return f"还有 {days} 天"
    if days == 0:
        return "今天截止"
    return f"已逾期 {-days} 天"
