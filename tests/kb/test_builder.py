"""The builder: idempotent on unchanged sources, recreates lost files, keeps curated fields."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from policies_kb import KBValidationError, builder, clear_cache, load_kb
from policies_kb.extract import find_deadlines, find_targets
from policies_kb.paths import DATA_DIR, SOURCES_DIR
from policies_kb.yamlio import read_yaml

DOCUMENTS = ("shanghai-ipa-2023-9", "datong-2023-zjtx", "cnipa-2017-30", "shanghai-gov-2024-7")
EXTRACTED = ("id", "document", "source_line", "section_path", "article", "lead_phrase", "text",
             "responsibility_text", "platforms", "targets", "deadlines")
CURATED = ("topics", "beneficiaries", "keywords")


def build(data_dir: Path) -> dict:
    """Rebuild a data folder from the real sources; {file name: changed}."""
    changed = builder.build(data_dir=data_dir, sources_dir=SOURCES_DIR)
    return {Path(path).name: flag for path, flag in changed.items()}


def entries(path: Path) -> list:
    """The measure entries of a measure file."""
    return read_yaml(path)["measures"]


def by_id(path: Path) -> dict:
    """Measure entries of a file by id."""
    return {entry["id"]: entry for entry in entries(path)}


def test_rebuild_changes_nothing(tmp_data):
    before = {path.relative_to(tmp_data): path.read_bytes() for path in tmp_data.rglob("*") if path.is_file()}
    changed = build(tmp_data)
    assert changed == {f"{doc}.yml": False for doc in DOCUMENTS}
    after = {path.relative_to(tmp_data): path.read_bytes() for path in tmp_data.rglob("*") if path.is_file()}
    assert after == before
    for relative, data in after.items():  # and the copy is still the shipped data
        assert data == (DATA_DIR / relative).read_bytes(), relative


@pytest.mark.parametrize("document_id", DOCUMENTS)
def test_removed_measure_file_is_recreated_with_extracted_fields(tmp_data, document_id):
    path = tmp_data / "measures" / f"{document_id}.yml"
    original = entries(path)
    path.unlink()
    changed = build(tmp_data)
    assert changed[path.name] is True
    assert all(flag is False for name, flag in changed.items() if name != path.name)
    rebuilt = entries(path)
    assert [e["id"] for e in rebuilt] == [e["id"] for e in original]
    for old, new in zip(original, rebuilt, strict=True):
        for key in EXTRACTED:
            assert new[key] == old[key], (old["id"], key)
        for key in CURATED:  # nothing to keep them from: empty until curated again
            assert new[key] == [], (old["id"], key)
        if old["responsibility_text"]:  # stated 责任单位 are extracted too
            assert new["agencies"] == old["agencies"], old["id"]
        assert new["text"] and new["source_line"] > 0


def test_recreated_file_needs_curation_before_it_validates(tmp_data):
    (tmp_data / "measures" / "shanghai-gov-2024-7.yml").unlink()
    build(tmp_data)
    clear_cache()
    with pytest.raises(KBValidationError) as error:
        load_kb(data_dir=tmp_data)
    assert any("shgov-1:" in p and "has no topic" in p for p in error.value.problems)


def test_curated_field_survives_rebuild_and_extracted_field_is_restored(tmp_data, measure_file):
    file = measure_file("shanghai-gov-2024-7")
    entry = file.entry("shgov-26")
    assert "  topics:\n  - financing\n  - subsidies\n" in entry
    file.path.write_text(file.path.read_text(encoding="utf-8").replace(
        entry, entry.replace("  topics:\n  - financing\n  - subsidies\n",
                             "  topics:\n  - subsidies\n  - financing\n  - talent_training\n")), encoding="utf-8")
    file.replace_in_entry("shgov-26", "  - 贴息\n", "  - 贴息\n  - 贴息政策兑现\n")
    file.replace_in_entry("shgov-26", "落实知识产权质押贷款贴息", "落实知识产权质押贷款的贴息", key="text")
    file.replace_in_entry("shgov-26", "source_line: ", "source_line: 9", key="source_line")

    changed = build(tmp_data)
    assert changed["shanghai-gov-2024-7.yml"] is True

    rebuilt = by_id(file.path)["shgov-26"]
    original = by_id(DATA_DIR / "measures" / "shanghai-gov-2024-7.yml")["shgov-26"]
    assert rebuilt["topics"] == ["subsidies", "financing", "talent_training"]
    assert "贴息政策兑现" in rebuilt["keywords"]
    assert rebuilt["text"] == original["text"]
    assert rebuilt["source_line"] == original["source_line"]
    assert build(tmp_data)["shanghai-gov-2024-7.yml"] is False  # and the edit is now stable


def test_curated_title_and_inferred_agencies_survive(tmp_data, measure_file):
    file = measure_file("datong-2023-zjtx")
    file.replace_in_entry("datong-6", "title: 实施知识产权质押融资促进工程", "title: 质押融资促进工程（大同）",
                          key="title")
    build(tmp_data)
    rebuilt = by_id(file.path)["datong-6"]
    assert rebuilt["title"] == "质押融资促进工程（大同）"
    assert rebuilt["lead_phrase"] == "实施知识产权质押融资促进工程"
    assert [(a["id"], a["inferred"]) for a in rebuilt["agencies"]] == [("dt-amr", True), ("sx-ipa", True)]


# ---- extracted figures, deadlines and agencies -----------------------------------------------

@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Measure records built from the sources alone (no measure files to take curated fields from)."""
    data_dir = tmp_path_factory.mktemp("fresh") / "data"
    shutil.copytree(DATA_DIR, data_dir)
    for path in (data_dir / "measures").glob("*.yml"):
        path.unlink()
    builder.build(data_dir=data_dir, sources_dir=SOURCES_DIR)
    records = {}
    for path in (data_dir / "measures").glob("*.yml"):
        records.update(by_id(path))
    return records


def test_all_89_provisions_are_extracted(extracted):
    assert len(extracted) == 89


def test_shgov_25_targets(extracted, kb):
    targets = extracted["shgov-25"]["targets"]
    assert [(t["value"], t["unit"], t["qualifier"], t["deadline"]) for t in targets] == [
        ("300", "亿元", "超过", "2025-12-31"), ("2000", "家", "超过", "2025-12-31"),
    ]
    assert targets[0]["metric"] == "本市专利商标质押融资登记规模"
    measure = kb.get("shgov-25")
    assert [(t.value + t.unit, t.deadline) for t in measure.targets] == [
        ("300亿元", dt.date(2025, 12, 31)), ("2000家", dt.date(2025, 12, 31)),
    ]
    assert all(t.deadline_text == "2025年底" for t in measure.targets)


def test_cnipa_procedure_2_deadline(extracted, kb):
    deadlines = extracted["cnipa-procedure-2"]["deadlines"]
    assert [(d["date_text"], d["date"]) for d in deadlines] == [("7月31日前", "2017-07-31")]
    measure = kb.get("cnipa-procedure-2")
    assert measure.deadlines[0].date == dt.date(2017, 7, 31)
    assert measure.deadlines[0].quote in measure.text
    assert "1-2个城市" in measure.text  # the quota continuation line belongs to this provision


def test_shgov_26_agencies_are_stated(extracted, kb):
    agencies = extracted["shgov-26"]["agencies"]
    assert agencies == [
        {"id": "sh-ipa", "as_written": "市知识产权局", "inferred": False},
        {"id": "sh-districts", "as_written": "各区政府", "inferred": False},
    ]
    measure = kb.get("shgov-26")
    assert [(a.as_written, a.agency_id, a.inferred) for a in measure.agencies] == [
        ("市知识产权局", "sh-ipa", False), ("各区政府", "sh-districts", False),
    ]


def test_every_shgov_measure_has_a_stated_responsibility(extracted):
    for number in range(1, 31):
        record = extracted[f"shgov-{number}"]
        assert record["responsibility_text"].startswith("责任单位"), number
        assert record["agencies"] and all(not a["inferred"] and a["id"] for a in record["agencies"]), number


def test_other_extracted_figures(extracted):
    shgov_2 = {t["value"]: t for t in extracted["shgov-2"]["targets"]}
    assert shgov_2["60"]["qualifier"] == "以上" and shgov_2["7000"]["qualifier"] == "左右"
    shgov_11 = [(t["value"], t["deadline"]) for t in extracted["shgov-11"]["targets"]]
    assert ("全覆盖", "2025-12-31") in shgov_11 and ("700", "2025-12-31") in shgov_11
    assert ("全覆盖", "2024-12-31") in [(t["value"], t["deadline"]) for t in extracted["shgov-1"]["targets"]]
    condition = extracted["cnipa-condition-2"]["targets"]
    assert [(t["value"], t["unit"], t["qualifier"], t["deadline"]) for t in condition] == [
        ("48.4", "件", "不低于", None),
    ]


def test_find_targets_and_deadlines_directly():
    text = "到2025年底,本市专利商标质押融资登记规模超过300亿元,惠及中小企业数量超过2000家。"
    assert [(t["value"], t["unit"], t["deadline"]) for t in find_targets(text)] == [
        ("300", "亿元", dt.date(2025, 12, 31)), ("2000", "家", dt.date(2025, 12, 31)),
    ]
    found = find_deadlines("经初审后，于7月31日前联合行文", 2017)
    assert [(d["date"], d["date_text"]) for d in found] == [(dt.date(2017, 7, 31), "7月31日前")]
    assert find_targets("加强宣传推广。") == []
