"""Scope words and names (bot/domain/scopes.py, bot/domain/names.py): one vocabulary for every
command, the CLI and natural phrasing."""

from __future__ import annotations

import pytest

from bot.domain import scopes
from bot.domain.names import closest, similarity

TABLE = scopes.NameTable.build([
    (1, "郑州市", ("郑州",)), (2, "开封市", ("开封",)), (3, "省住房和城乡建设厅", ("住建厅",)),
    (4, "郑州海关", ()), (5, "济源示范区", ("济源", "济源市")),
])


@pytest.mark.parametrize(("text", "spec", "unknown"), [
    ("全部", "all", ()), ("全体联络员", "all", ()), ("all", "all", ()),
    ("各地市", "kind:city", ()), ("所有地市", "kind:city", ()), ("18个地市", "kind:city", ()),
    ("kind:city", "kind:city", ()), ("直管县", "kind:county", ()),
    ("各地市和省直部门", "kind:city,kind:department", ()),
    ("郑州和开封", "郑州市,开封市", ()), ("郑州、开封", "郑州市,开封市", ()),
    ("郑州开封", "郑州市,开封市", ()), ("郑州市,开封市", "郑州市,开封市", ()),
    ("省住房和城乡建设厅、开封", "省住房和城乡建设厅,开封市", ()),  # 和 inside a name
    ("郑州海关", "郑州海关", ()), ("济源市", "济源示范区", ()),
    ("郑洲市", "郑州市", ()),  # a common slip, normalised
    ("火星市和郑州", "郑州市", ("火星市",)),
    ("郑州县", None, ("郑州县",)),  # not 郑州 + 县
])
def test_scope_words(text: str, spec: str | None, unknown: tuple[str, ...]) -> None:
    s = scopes.parse(text, TABLE)
    assert s.spec(TABLE.names) == spec
    assert s.unknown == unknown


def test_scan_stops_where_scope_words_end() -> None:
    text = "各地市和郑州 请于周五前报送"
    s = scopes.scan(text, 0, TABLE)
    assert (s.kinds, s.unit_ids, text[s.end:]) == (("city",), (1,), " 请于周五前报送")
    assert scopes.scan("郑州市场监管", 0, TABLE, kinds=False).unit_ids == (1,)


def test_closest_names_by_writing_and_sound() -> None:
    cands = [("郑州市", 1), ("郑州", 1), ("开封市", 2), ("开封", 2), ("洛阳市", 3)]
    assert closest("郑州县", cands)[0][1] == 1
    assert closest("开丰", cands)[0][1] == 2  # kai feng: an input-method slip
    assert closest("火星市", cands, threshold=0.4) == []  # a shared 市 is no likeness
    assert similarity("洛杨市", "洛阳市") > 0.9
