"""policies_kb.labels: one wording for agencies, platforms and validity, whoever shows them."""

from __future__ import annotations

from policies_kb.labels import (
    INFERRED_NOTE, VALIDITY_LABELS, agencies_text, agency_label, agency_name, join_names, platforms_text, validity_label,
)


def test_validity_labels_cover_every_status_the_kb_gives(kb):
    statuses = {kb.validity_status(m) for m in kb.measures} | {d.validity_status for d in kb.documents.values()}
    assert statuses <= set(VALIDITY_LABELS)
    assert validity_label("expired") == "历史文件" and validity_label("in_force") == "现行"
    assert validity_label("unknown-code") == "unknown-code"


def test_join_names_keeps_order_drops_repeats_and_fills_empty():
    assert join_names(["甲", "乙", "甲"]) == "甲、乙"
    assert join_names([], empty="—") == "—" and join_names([]) == ""


def test_agency_named_as_written_then_full_name(kb):
    measure = kb.get("shgov-25")
    ref = measure.agencies[0]
    assert agency_name(kb, ref) == "上海市知识产权局"
    assert agency_label(kb, ref) == "市知识产权局（上海市知识产权局）"
    assert agency_label(kb, ref, full_name=False) == "市知识产权局"
    assert agencies_text(kb, measure).startswith("市知识产权局（上海市知识产权局）、金融监管总局上海监管局（")


def test_inferred_agencies_marked_once_after_the_list_or_after_each(kb):
    measure = kb.get("shipa-16")  # 上海市知识产权局, inferred: its registry name is as written
    assert agencies_text(kb, measure) == "上海市知识产权局" + INFERRED_NOTE
    assert agencies_text(kb, measure, mark_each=True) == "上海市知识产权局（推定）"
    pilot = kb.get("cnipa-procedure-2")
    each = agencies_text(kb, pilot, mark_each=True)
    assert "试点城市（各试点城市，推定）" in each and INFERRED_NOTE not in each


def test_platforms_as_written(kb):
    assert platforms_text(kb.get("shipa-10")) == "知识产权服务万里行"
    assert platforms_text(kb.get("shgov-25")) == "" and platforms_text(kb.get("shgov-25"), empty="—") == "—"
