"""Character-level normalisation of Chinese chat text that keeps positions.

Every function here maps a message to a string of the *same length*, so that a span found in the
normalised text is the same span in what the user typed (bodies are cut from the original text).
"""

from __future__ import annotations

import unicodedata
from types import MappingProxyType
from typing import Final

# Traditional -> simplified, for the characters that turn up in work-group messages (pairs).
_T2S_PAIRS: Final = (
    "進进還还誰谁沒没單单鄭郑開开陽阳頂顶鶴鹤鄉乡許许門门峽峡濟济區区鞏巩義义蘭兰縣县長长鄧邓"
    "駐驻馬马廳厅場场監监環环態态報报這这週周們们個个會会發发佈布過过確确認认動动創创導导幫帮"
    "綁绑碼码紅红幟帜級级調调總总結结訓训練练執执彙汇匯汇編编範范點点設设計计劃划時时間间後后"
    "號号優优謝谢處处請请問问嗎吗麼么經经齊齐驗验專专項项檢检評评價价數数幾几邊边裡里裏里為为"
    "與与對对題题應应該该當当實实際际給给讓让聯联絡络員员錄录傳传載载檔档內内說说歲岁慶庆國国"
    "節节農农曆历歷历終终幹干達达標标準准狀状況况資资誤误錯错罰罚蠻蛮趨趋響响壞坏負负責责領领"
    "陳陈張张劉刘簡简體体網网頁页鏈链辦办決决議议統统線线雙双關关閉闭訊讯見见視视頻频圖图現现"
    "舉举積积極极參参歡欢氣气機机廣广轉转條条記记規规則则製制訂订讀读鐘钟兩两萬万億亿啟启務务"
    "歸归屬属勵励獎奖懲惩績绩戶户遞递樣样種种習习學学車车飯饭熱热風风雲云電电話话訴诉覆复復复"
    "麵面無无誌志產产業业稅税勞劳備备畫画儘尽盡尽並并來来寫写於于師师帶带將将頭头類类親亲愛爱"
    "舊旧剛刚壓压顯显醫医療疗衛卫違违擬拟屆届訪访談谈鎮镇審审駁驳蓋盖簽签閱阅遲迟紀纪證证據据"
    "補补層层權权費费貨货買买賣卖頓顿續续滿满溝沟適适選选擇择擔担憑凭組组織织構构辭辞職职欄栏"
    "稱称貼贴擊击黨党隊队團团觀观問问聞闻階阶陣阵隨随險险雜杂難难離离靈灵靜静順顺須须預预額额"
    "願愿飛飞養养館馆髮发黃黄龍龙緊紧繼继縮缩約约納纳紙纸細细絕绝綜综維维緒绪緩缓聲声聽听腦脑"
    "臨临興兴艱艰築筑籌筹討讨試试詳详認认語语課课論论諮咨講讲識识護护變变豐丰財财貢贡質质賽赛"
    "贊赞趕赶趙赵跡迹踐践軍军較较輔辅輕轻輪轮輸输轄辖連连運运遠远遷迁遺遗郵邮釋释鋪铺錢钱鍵键"
    "陸陆雖虽顧顾餘余驅驱鬧闹臺台"
    # round 3 (blind2: 撤銷…與…合併, 能不能寬限): more characters of requests and pleas
    "銷销併并煩烦礙碍覽览詢询寬宽異异夠够塊块賬账帳帐債债貫贯徹彻嚴严溫温寧宁僅仅儀仪儲储兒儿冊册協协厲厉嘗尝園园圍围圓圆聖圣壯壮奪夺奮奋寶宝廢废彈弹徑径從从惡恶慮虑懷怀戰战擴扩攜携斷断暫暂樓楼櫃柜殘残毀毁漢汉災灾爭争獨独獻献礦矿禮礼穩稳競竞筆笔糧粮緣缘罷罢羅罗膽胆藝艺薦荐藍蓝蘇苏術术衝冲裝装複复覺觉觸触託托診诊詞词誠诚諾诺謀谋謹谨譯译貧贫購购贈赠蹤踪躍跃輩辈輯辑鄰邻針针銀银鋼钢鏡镜閃闪閒闲陰阴隱隐霧雾頒颁顆颗顏颜驚惊鳥鸟滯滞搶抢"
)

_T2S: Final = MappingProxyType(
    {
        ord(_T2S_PAIRS[i]): _T2S_PAIRS[i + 1]
        for i in range(0, len(_T2S_PAIRS), 2)
        if _T2S_PAIRS[i] != _T2S_PAIRS[i + 1]
    }
)

# Typical input-method slips and colloquial spellings; each pair has the same length.
CONFUSABLES: Final[tuple[tuple[str, str], ...]] = (
    ("进渡", "进度"),
    ("近度", "进度"),
    ("近渡", "进度"),
    ("进读", "进度"),
    ("尽度", "进度"),
    ("谁没叫", "谁没交"),
    ("谁没教", "谁没交"),
    ("没叫", "没交"),
    ("叫了没", "交了没"),
    ("教了没", "交了没"),
    ("焦了没", "交了没"),
    ("叫了吗", "交了吗"),
    ("提较", "提交"),
    ("题交", "提交"),
    ("提教", "提交"),
    ("帮住", "帮助"),
    ("邦助", "帮助"),
    ("邦定", "绑定"),
    ("棒定", "绑定"),
    ("帮定", "绑定"),
    ("红棋", "红旗"),
    ("黄棋", "黄旗"),
    ("蓝棋", "蓝旗"),
    ("旗织", "旗帜"),
    ("旗制", "旗帜"),
    ("收道", "收到"),
    ("收倒", "收到"),
    ("手到", "收到"),
    ("已受到", "已收到"),
    ("动太", "动态"),
    ("东态", "动态"),
    ("代办", "待办"),
    ("确任", "确认"),
    ("却认", "确认"),
    ("确人", "确认"),
    ("通保", "通报"),
    ("季读", "季度"),
    ("记度", "季度"),
    ("寄度", "季度"),
    ("郑洲", "郑州"),
    ("正州", "郑州"),
    ("开风", "开封"),
    ("落阳", "洛阳"),
    ("安洋", "安阳"),
    ("焦做", "焦作"),
    ("商邱", "商丘"),
    ("济原", "济源"),
    ("发部", "发布"),
    ("发布人物", "发布任务"),
    ("我的人物", "我的任务"),
    ("退会", "退回"),
    ("推回", "退回"),
    ("还有那些", "还有哪些"),
    ("那些没", "哪些没"),
    ("那些单位", "哪些单位"),
    ("那几个", "哪几个"),
    ("木有", "没有"),
    ("米有", "没有"),
    ("么有", "没有"),
    ("神马", "什么"),
    ("甚么", "什么"),
    ("审和", "审核"),
    ("月低", "月底"),
    ("年低", "年底"),
    ("星其", "星期"),
    ("周未", "周末"),
)


def _char(c: str) -> str:
    """One character, normalised to one character (full width -> half width, lower case)."""
    if c in "\u3000\xa0":
        return " "
    n = unicodedata.normalize("NFKC", c)
    if len(n) != 1:
        return c
    t = n.translate(_T2S)
    low = t.lower()
    return low if len(low) == 1 else t


def normalize(text: str) -> str:
    """Simplified, half-width, lower-case, confusables fixed; ``len(result) == len(text)``."""
    out = "".join(_char(c) for c in text)
    for wrong, right in CONFUSABLES:
        if wrong in out:
            out = out.replace(wrong, right)
    return out


def mask_mentions(text: str) -> str:
    """Blank out ``@name`` mentions (up to the next space), keeping positions."""
    if "@" not in text:
        return text
    chars = list(text)
    i = 0
    while i < len(chars):
        if chars[i] == "@":
            j = i
            while j < len(chars) and not chars[j].isspace():
                chars[j] = " "
                j += 1
            i = j
        else:
            i += 1
    return "".join(chars)


PUNCT: Final = frozenset(
    " \t\r\n,.!?;:'\"()[]{}<>~`|\\-_=+*^、，。！？；：“”‘’（）【】《》〈〉「」『』…—·～"
)


def _noise(c: str) -> bool:
    """Emoji and other pictographs, joiners and variation selectors: no words in them."""
    if c < "\u2000":
        return False
    return unicodedata.category(c) in ("So", "Cf", "Mn", "Sk", "Cs", "Co")


def compact(text: str) -> str:
    """The normalised text without spaces, punctuation and emoji (``#`` and ``/`` are kept)."""
    return "".join(c for c in text if c not in PUNCT and not _noise(c))


CN_DIGITS: Final = MappingProxyType(
    {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
     "八": 8, "九": 9}
)


def cn_int(s: str) -> int | None:
    """``"15"``, ``"十五"``, ``"二十一"``, ``"三"`` -> int; None when not a number."""
    if not s:
        return None
    if s.isascii() and s.isdigit():
        return int(s)
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = 1 if head == "" else CN_DIGITS.get(head)
        ones = 0 if tail == "" else CN_DIGITS.get(tail)
        if tens is None or ones is None or len(head) > 1 or len(tail) > 1:
            return None
        return tens * 10 + ones
    if len(s) == 1:
        return CN_DIGITS.get(s)
    return None
