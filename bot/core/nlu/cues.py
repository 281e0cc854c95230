"""The words a question is made of, each with what it contributes to the query frame.

A question's skeleton (its text with names replaced by markers, see :mod:`.skeleton`) is read
longest word first against :data:`CUES`. A word can be a filler (那个, 麻烦问下), a state
(逾期, 退回), a piece of one (没 + 交 = 没交; 交 + 了 = 交了; 交没交), an answer form (几家,
哪些, 什么时候), a subject noun (任务, 红旗, 通知 — from :mod:`.subjects`), a flag colour, or a
question particle. What no cue explains is residue: a question with much residue ("郑州的王主任
电话多少") is not one the bot can answer, and gets a question back or nothing.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from .frame import Form, State
from .subjects import SUBJECTS

Cue = tuple[str, ...]  # ("kind", value...): see the tables below

_FILLERS = (
    "那个啥", "那个", "那啥", "在吗", "在么", "在不在", "同志你好", "同志们好", "同志们", "同志",
    "冒昧问一下", "冒昧问下", "冒昧", "还想问问", "想问问", "想了解下", "想了解一下", "了解一下",
    "了解下", "问问", "问一哈", "打扰下", "不好意思", "咨询一下", "咨询下", "请问下", "嗯呢", "这个", "嗯嗯", "嗯", "麻烦问一下", "麻烦问下", "麻烦问问", "麻烦", "请问一下",
    "请问", "问一下", "问下", "打扰一下", "打扰了", "劳驾", "请教一下", "请教下", "请教", "领导好",
    "老师好", "领导们", "领导", "老师", "各位", "亲", "您好", "你好", "哈哈", "哈", "哎呀", "哎",
    "唉", "呃", "额", "就是说", "就是", "我想问下", "我想问一下", "想问下", "想问一下", "我想知道",
    "想知道", "帮我看看", "帮我查查", "帮我查一下", "帮我查下", "帮我看下", "帮忙看下", "帮忙查下",
    "查一下", "查下", "查查", "看一下", "看下", "看看", "瞅瞅", "给我说下", "说一下", "说下", "求问",
    "好的", "谢谢", "多谢", "辛苦", "请", "一下", "啊", "呀", "哦", "噢", "吧", "哇", "咯", "啦",
    "滴", "喔", "撒", "呗", "哒", "噻", "喂", "帮忙", "帮我", "麻烦你", "劳烦", "拜托",
)
# Words that carry nothing for the frame but are ordinary parts of a question.
# Words that mark a follow-up: "换成开封呢" asks the last question about 开封.
_FOLLOW = ("换成", "改成", "换", "如果是", "如果", "要是", "那么", "那要是", "假如", "那如果",
           "的话")
# Particles that end an elliptic question ("那开封呢", "那开封嘞", "鹤壁的咧"): like 呢, they ask
# the last question again about what was named.
FOLLOW_PARTICLES = ("呢", "嘞", "咧", "哩", "捏", "呐", "涅")
_FUNCTION = (
    "的", "得", "地", "还", "都", "也", "就", "才", "又", "再", "现在", "目前", "当前", "到现在",
    "截止目前", "截至目前", "至今", "到目前为止", "为止", "那边", "这边", "那里", "这里", "那儿",
    "这儿", "那", "这", "有", "是", "在", "呢", "个", "些", "了吧", "咱", "里头", "里面", "里", "当中",
    "中", "之中", "之间", "以及", "和", "跟", "与", "及", "、", "给", "被", "把", "让", "们", "一共",
    "总共", "共", "到底", "究竟", "已经", "具体", "大概", "一样", "那些", "这些", "其中", "一个",
    "单位的", "方面", "情形", "他们", "她们", "他", "她", "人家", "看", "上", "下", "家", "拿", "拿了", "得了", "获得", "得到", "插",
    "插了", "挂", "挂了", "拿到", "拿到了", "得到", "评上", "对", "一", "要", "能", "可以",
    "弄的", "说", "问",
    "查", "查询", "统计", "汇总", "列", "现", "都有", "又有", "进行中", "在进行", "在办", "总体",
    "整体",
)
_NEGATIONS = ("还没有", "还没", "还未", "没有", "没", "未", "尚未", "木有", "还不", "不", "没能",
              "仍未", "迟迟没", "一直没", "木", "冇", "冇有")  # 木 / 冇: dialect 没 ("交了木")
_ALREADY = ("都已经", "已经", "已", "都已")
_PERFECTIVE = ("了", "过", "啦", "完了", "好了", "齐了", "完", "好", "齐")
# Handing something in (the state comes from what surrounds the verb: 没交, 交了, 交没交).
_SUBMIT_VERBS = (
    "提交上来", "报送上来", "上报上来", "提交上去", "提交", "上报", "报送", "上交", "递交",
    "呈报", "交上来", "报上来", "传上来", "交上去",
    "报上去", "交过来", "报过来", "发上来", "上传", "传", "交", "报", "完成", "弄完", "做完",
    "写完", "弄好", "做好", "搞定", "干完", "交齐", "报齐", "弄", "做", "干", "写", "交来",
    "报来", "收到", "发过来",
)
# Acknowledging a notice.
_ACK_VERBS = ("确认", "回复", "回执", "回收到", "回", "签收", "看到", "已阅", "阅", "收到", "读")
_STATES = {
    State.OVERDUE: ("逾期", "超期", "过期", "延误", "拖期", "超时", "晚交", "迟交", "误期",
                    "过了截止", "过了期限", "过截止"),
    State.RETURNED: ("被退回", "退回来", "退回", "被打回", "打回来", "打回", "驳回", "退了",
                     "被退", "退回去", "返回修改", "不合格"),
    State.ACCEPTED: ("审核通过", "通过了", "通过", "合格", "验收了", "评优", "过审", "过了审"),
    State.NOT_ACKED: ("没看", "没看到", "未读", "没读", "没看见", "未阅"),
    State.PENDING: ("待审核", "待审", "未审核", "没审核", "还没审", "没审", "未审", "待批",
                    "等待审核", "审核中", "在审"),
}
_FORMS = {
    Form.WHEN: ("什么时候", "啥时候", "啥时", "几时", "几号", "哪天", "哪一天", "几月几号",
                "几月几日", "还剩几天", "还有几天", "剩几天", "最晚", "最迟", "最后期限",
                "多久", "多长时间", "什么时间", "啥时间", "截止到哪天",
                "截止是哪天", "还有多少天", "剩多少天", "几天"),
    Form.RANK: ("排名", "排行", "排第几", "第几名", "排在第几", "排多少", "第几", "最多", "最少",
                "前三", "前几名", "前十", "倒数", "排前面", "谁多", "谁少", "比较多", "更多",
                "多一些", "最高", "最低", "靠前", "靠后", "垫底", "领先"),
    Form.COUNT: ("几家", "几个", "几项", "几面", "几份", "几件", "几样", "几条", "几位", "多少家",
                 "多少个", "多少项", "多少份", "多少面", "多少", "几", "数量", "个数", "比例",
                 "几次", "多少次", "几回", "几遍",
                 "占比", "完成率", "百分之几"),
    Form.LIST: ("哪些", "哪几个", "哪几家", "哪几", "哪个", "哪家", "名单", "都有谁", "都是谁",
                "列一下", "列出来", "列出", "清单", "一览", "哪样", "哪几样",
                "有哪些", "都有啥", "都有什么", "列表", "些啥", "些什么", "哪样些",
                "点名", "点个名", "点下名", "点一下名", "点点名"),  # a roll call: who
    Form.DETAIL: ("情况", "怎么样", "咋样", "怎样", "如何", "进度", "进展", "啥情况", "什么情况",
                  "到哪一步", "到哪步", "哪一步", "详情", "明细", "状态",
                  "咋样了", "怎么样了", "如何了", "好了没", "弄得咋样", "啥状态", "什么状态",
                  "啥进度", "什么进度", "啥进展"),
}
_QUESTION = ("吗", "么", "嘛", "没呢", "是不是", "是否", "有没有", "有无", "可有", "没得", "不是",
             "了没", "了吗", "了么", "没有啊", "?")
_WHY = ("为什么", "为啥", "咋", "怎么", "干嘛", "咋回事儿", "咋回事", "怎么回事")
_COLOURS = {"red": ("红旗",), "yellow": ("黄旗",), "blue": ("蓝旗",)}
_DUE = ("要交", "要报", "需要交", "需要报", "需交", "需报", "该交", "得交", "要提交", "要上报",
        "要报送", "要完成", "要做", "要弄", "要办", "需要提交", "到期", "截止", "截至", "需提交",
        "要干", "交啥", "报啥", "要写")
# A deadline as a noun: asks when, unless a date is given ("截止时间 7月15日 的任务有哪些").
_DEADLINE_NOUNS = ("截止日期", "截止时间", "截至时间", "到期时间", "期限", "deadline", "截止日")
_SOON = ("快到期", "即将到期", "马上到期", "快截止", "即将截止", "临近截止", "要到期", "快到截止",
         "近期", "最近", "这几天", "近几天", "马上要交", "快要交", "眼下", "这两天")
_REVIEW = ("审核了", "审了", "审完", "审核", "审批", "审没审", "审")
# Words for everyone: no filter ("各单位提交情况", "大家都回了吗").
_ALL_WORDS = ("各单位", "大家", "全省", "全体单位", "所有单位", "全部单位", "各位领导", "全体人员")
_RANK_WEAK = ("多", "少")
# Not our words although they contain ours.
_NOISE = ("红旗渠", "通过率", "进度条", "动态管理")
# A score compared ("谁分高", "哪个分数低"): the ranking of flags.
_SCORE_COMPARED = tuple(noun + adj for noun in ("分", "分数", "得分", "积分")
                        for adj in ("高", "低", "最高", "最低", "高些", "低些", "靠前", "靠后"))
# Words that ask the bot to *do* something (urge, publish, notify, change a deadline…): in a
# question they are unexplained, so a request is never answered as a question by accident.
_ACT = ("督办", "督促", "催办", "催促", "催一催", "催催", "催一下", "催下", "催", "提醒", "提个醒",
        "发布", "布置", "下发", "新建", "新增", "创建", "下达", "延期", "延长", "推迟", "顺延",
        "撤销", "撤回", "作废", "取消", "改为", "改到", "调整为", "调整到", "拟", "起草",
        "草拟", "@", "艾特",
        # asking for time for oneself ("晚几天交吗", "能缓两天吗"): a plea, not a question
        "晚几天", "晚两天", "晚一天", "晚点交", "晚些交", "晚点报", "缓几天", "缓两天", "缓一缓",
        "缓一下", "宽限", "多给几天", "多给两天")
# What is handed in, as a noun: a submission record when it is received or reviewed
# ("收到的材料", "通过的材料"), else whatever a task asks for ("还欠啥材料").
_MATERIALS = ("材料", "东西")
_OWE = ("欠", "欠着", "落下", "落了", "拉下", "漏交", "漏报", "缺了", "还差", "差几", "差哪", "待办", "缺", "缺交", "欠交", "未交", "未报", "未提交", "未报送",
        "没交齐", "未上报")


# A position counted from the top or the bottom ("前五", "前3名", "倒数三家", "后两名"): a ranking.
_NUMERALS = ("一", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十")
_POSITIONS = tuple(
    lead + n + tail for lead in ("前", "后", "倒数", "排名前", "排名后", "排前", "排后")
    for n in _NUMERALS for tail in ("", "名", "位", "家", "个"))


def _build() -> dict[str, Cue]:
    table: dict[str, Cue] = {}

    def put(words: tuple[str, ...], cue: Cue) -> None:
        for w in words:
            table.setdefault(w, cue)

    # Order matters only for words in several lists: the first wins.
    put(_NOISE, ("noise",))
    put(_SCORE_COMPARED, ("subject", "flags", "rank"))
    put(("收到的", "收上来的"), ("received",))
    for state, words in _STATES.items():
        put(words, ("state", state.value))
    put(_OWE, ("state", State.OWED.value))
    for colour, words in _COLOURS.items():
        put(words, ("colour", colour))
    put(("红旗榜", "旗帜榜", "排行榜", "光荣榜", "榜单"), ("subject", "flags", "rank"))
    put(("谁", "都有谁", "都是谁"), ("subject", "units", "list"))
    put(("哪些单位", "哪个单位", "哪几个单位", "哪几家单位", "哪家单位", "哪几家", "哪家"),
        ("subject", "units", "list"))
    put(("几家", "几个单位", "多少家", "多少个单位", "多少单位"), ("subject", "units", "count"))
    put(("几项", "几个任务", "多少任务", "几样"), ("subject", "tasks", "count"))
    put(("啥任务", "什么任务", "什么", "啥", "哪些材料", "啥材料", "什么材料", "啥活", "什么活",
         "啥事", "什么事", "啥东西", "什么东西", "哪些东西", "哪些活", "哪些事"),
        ("subject", "tasks", "list"))
    put(("几份材料", "份材料"), ("subject", "submissions", "count"))
    put(("交的材料", "报的材料", "提交的材料", "交的东西", "报送的材料", "上报的材料"),
        ("subject", "submissions"))
    put(("所有", "全部", "全体"), ("every",))
    put(("多少分", "几分"), ("subject", "flags", "count"))
    put(("几面",), ("subject", "flags", "count"))
    put(_SOON, ("soon",))
    put(_DEADLINE_NOUNS, ("deadline",))
    put(_DUE, ("due",))
    for form, words in _FORMS.items():
        put(words, ("form", form.value))
    put(_POSITIONS, ("form", Form.RANK.value))
    put(_MATERIALS, ("material",))
    put(_ACT, ("act",))
    for s in SUBJECTS:
        put(s.words, ("subject", s.name))
    put(_REVIEW, ("review",))
    put(_ALL_WORDS, ("all",))
    put(_RANK_WEAK, ("rankweak",))
    put(_ALREADY, ("already",))
    put(_NEGATIONS, ("neg",))
    put(_SUBMIT_VERBS, ("verb",))
    put(_ACK_VERBS, ("ack",))
    put(_PERFECTIVE, ("perf",))
    put(_QUESTION, ("q",))
    put(_WHY, ("why",))
    put(_FOLLOW, ("follow",))
    put(FOLLOW_PARTICLES, ("particle",))
    put(_FILLERS, ("filler",))
    put(_FUNCTION, ("function",))
    return table


CUES: Final = MappingProxyType(_build())
MAX_CUE: Final = max(len(w) for w in CUES)
