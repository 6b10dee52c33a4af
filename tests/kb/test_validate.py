"""Validation: the real KB passes every check; each kind of corruption is caught and located."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies_kb import KBFileError, KBValidationError, clear_cache, load_kb
from policies_kb.extract import EXPECTED_COUNTS
from policies_kb.loader import load_registry, validate
from policies_kb.paths import DATA_DIR, SOURCES_DIR

CONTRACT_IDS = (
    ["shipa-guiding", "shipa-goals"] + [f"shipa-{n}" for n in range(1, 20)]
    + [f"shipa-safeguard-{n}" for n in range(1, 4)]
    + [f"datong-{n}" for n in range(1, 17)]
    + ["cnipa-applicants", "cnipa-condition-1", "cnipa-condition-2", "cnipa-procedure-overview"]
    + [f"cnipa-procedure-{n}" for n in range(1, 5)] + [f"cnipa-pilot-{n}" for n in range(1, 7)]
    + ["cnipa-pilot-reporting"] + [f"cnipa-support-{n}" for n in range(1, 4)] + ["cnipa-contacts"]
    + [f"shgov-{n}" for n in range(1, 31)]
)


def located(problem: str, filename: str) -> re.Match:
    """The `…/<filename>:<line>:` prefix of a problem, or None."""
    return re.search(rf"{re.escape(filename)}:(\d+):", problem)


# ---- the real KB -----------------------------------------------------------------------------

def test_real_kb_has_no_problems():
    registry, locations = load_registry(DATA_DIR)
    assert validate(registry, locations, SOURCES_DIR, DATA_DIR) == []


def test_load_kb_with_checks_succeeds():
    clear_cache()
    kb = load_kb(check=True)
    assert len(kb.measures) == 89


def test_exact_counts_per_document(kb):
    counts = {doc_id: len(kb.filter(document=doc_id)) for doc_id in kb.documents}
    assert counts == {
        "shanghai-ipa-2023-9": 24, "datong-2023-zjtx": 16, "cnipa-2017-30": 19, "shanghai-gov-2024-7": 30,
    }
    assert counts == EXPECTED_COUNTS
    assert sum(counts.values()) == len(kb.measures) == 89
    assert len(kb.measures) >= 80


def test_measure_ids_are_exactly_the_contract_ids(kb):
    assert [m.id for m in kb.measures] == CONTRACT_IDS
    assert len(set(CONTRACT_IDS)) == 89


def test_every_measure_text_is_verbatim_in_its_source(kb):
    for measure in kb.measures:
        source = (SOURCES_DIR / kb.document(measure).source).read_text(encoding="utf-8")
        assert measure.text in source, measure.id
        assert measure.source_line > 0
        assert measure.text.split("\n")[0] in source.split("\n")[measure.source_line - 1], measure.id


# ---- corrupted copies ------------------------------------------------------------------------

def test_changed_quote_is_caught_with_file_line_and_id(tmp_data, measure_file, problems):
    file = measure_file("shanghai-gov-2024-7")
    file.replace_in_entry("shgov-25", "超过300亿元", "超过400亿元", key="text")
    found = problems(tmp_data)
    assert len(found) == 1, found
    problem = found[0]
    assert "shgov-25" in problem and "verbatim" in problem
    where = located(problem, "shanghai-gov-2024-7.yml")
    assert where and int(where.group(1)) == file.entry_line("shgov-25")
    with pytest.raises(KBValidationError) as error:
        load_kb(data_dir=tmp_data, sources_dir=SOURCES_DIR)
    assert any("shgov-25" in p and "verbatim" in p for p in error.value.problems)


def test_changed_responsibility_text_is_caught(tmp_data, measure_file, problems):
    file = measure_file("shanghai-gov-2024-7")
    file.replace_in_entry("shgov-26", "各区政府", "各区政府们", key="responsibility_text")
    found = problems(tmp_data)
    assert any("shgov-26" in p and "责任单位" in p and "verbatim" in p for p in found), found


def test_missing_provision_names_the_document_and_expected_count(tmp_data, measure_file, problems):
    measure_file("shanghai-gov-2024-7").delete_entry("shgov-5")
    found = problems(tmp_data)
    assert len(found) == 1, found
    problem = found[0]
    assert "shanghai-gov-2024-7" in problem
    assert "expected 30" in problem and "has 29" in problem
    assert located(problem, "measures/shanghai-gov-2024-7.yml")
    clear_cache()
    with pytest.raises(KBValidationError, match="expected 30"):
        load_kb(data_dir=tmp_data)


def test_unknown_agency_id_is_caught(tmp_data, measure_file, problems):
    file = measure_file("shanghai-gov-2024-7")
    file.replace_in_entry("shgov-26", "id: sh-districts", "id: sh-nowhere")
    found = problems(tmp_data)
    assert len(found) == 1, found
    problem = found[0]
    assert "not in the agency registry" in problem and "sh-nowhere" in problem and "shgov-26" in problem
    where = located(problem, "shanghai-gov-2024-7.yml")
    assert where and int(where.group(1)) == file.entry_line("shgov-26")


def test_unknown_platform_id_is_caught(tmp_data, measure_file, problems):
    measure_file("shanghai-ipa-2023-9").replace_in_entry("shipa-12", "id: sh-ip-exchange", "id: sh-nowhere")
    found = problems(tmp_data)
    assert any("shipa-12" in p and "not in the platform registry" in p for p in found), found


def test_broken_yaml_names_file_and_line(tmp_data, measure_file):
    file = measure_file("shanghai-gov-2024-7")
    line = file.replace_in_entry("shgov-3", "  title:", "    title:", key="title")
    with pytest.raises(KBFileError) as error:
        load_registry(tmp_data)
    assert error.value.path.name == "shanghai-gov-2024-7.yml"
    assert error.value.line == line
    assert f"shanghai-gov-2024-7.yml:{line}:" in str(error.value)
    clear_cache()
    with pytest.raises(KBFileError):
        load_kb(data_dir=tmp_data)


def test_broken_registry_yaml_names_file_and_line(tmp_data):
    path = tmp_data / "agencies.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "name: 上海市教育委员会")
    lines[index] = "  " + lines[index]
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(KBFileError) as error:
        load_registry(tmp_data)
    assert error.value.path.name == "agencies.yml"
    assert abs(error.value.line - (index + 1)) <= 1


def test_source_changed_by_one_byte_fails_its_checksum(tmp_data, tmp_sources, problems):
    path = tmp_sources / "shanghai-gov-2024-7.txt"
    data = path.read_bytes()
    assert data.count(b"info@shanghaiinvest.com") == 1  # page furniture, quoted by no measure
    path.write_bytes(data.replace(b"info@", b"inf0@"))
    found = problems(tmp_data, tmp_sources)
    assert len(found) == 1, found
    problem = found[0]
    assert "shanghai-gov-2024-7.txt" in problem and "SHA-256" in problem
    assert re.search(r"SHA256SUMS line \d+", problem)
    assert located(problem, "shanghai-gov-2024-7.txt")
    with pytest.raises(KBValidationError, match="SHA-256"):
        load_kb(data_dir=tmp_data, sources_dir=tmp_sources)


def test_changed_quoted_source_text_fails_checksum_and_verbatim(tmp_data, tmp_sources, problems):
    path = tmp_sources / "shanghai-gov-2024-7.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("超过2000家", "超过3000家"), encoding="utf-8")
    found = problems(tmp_data, tmp_sources)
    assert any("SHA-256" in p for p in found)
    assert any("shgov-25" in p and "verbatim" in p for p in found)


def test_missing_source_file_is_reported(tmp_data, tmp_sources, problems):
    (tmp_sources / "datong-2023-zjtx.txt").unlink()
    found = problems(tmp_data, tmp_sources)
    assert any("datong-2023-zjtx.txt" in p and "missing" in p for p in found), found
    assert any("datong-2023-zjtx.txt" in p and "cannot read source" in p for p in found), found


def test_duplicate_measure_id_is_caught(tmp_data, measure_file):
    file = measure_file("shanghai-gov-2024-7")
    line = file.replace_in_entry("shgov-6", "- id: shgov-6", "- id: shgov-5")
    with pytest.raises(KBFileError) as error:
        load_registry(tmp_data)
    message = str(error.value)
    assert "shgov-5" in message and "duplicate" in message
    assert error.value.path.name == "shanghai-gov-2024-7.yml" and error.value.line == line
    assert f"shanghai-gov-2024-7.yml:{file.entry_line('shgov-5')}" in message  # where the first one is


def test_unknown_field_is_caught(tmp_data, measure_file):
    file = measure_file("datong-2023-zjtx")
    file.replace_in_entry("datong-7", "  article:", "  artcle:", key="article")
    with pytest.raises(KBFileError) as error:
        load_registry(tmp_data)
    assert error.value.path.name == "datong-2023-zjtx.yml"
    assert error.value.line == file.entry_line("datong-7")
    assert "datong-7" in str(error.value)


def test_unknown_topic_is_caught(tmp_data, measure_file, problems):
    measure_file("cnipa-2017-30").replace_in_entry("cnipa-contacts", "- pilot_city_application", "- pilot_cities")
    found = problems(tmp_data)
    assert any("cnipa-contacts" in p and "unknown topic 'pilot_cities'" in p for p in found), found


def test_every_problem_names_a_file_and_line(tmp_data, tmp_sources, measure_file, problems):
    file = measure_file("shanghai-gov-2024-7")
    file.replace_in_entry("shgov-25", "超过300亿元", "超过400亿元", key="text")
    file.replace_in_entry("shgov-26", "id: sh-districts", "id: sh-nowhere")
    file.delete_entry("shgov-5")
    (tmp_sources / "cnipa-2017-30.txt").write_bytes((tmp_sources / "cnipa-2017-30.txt").read_bytes() + b"\n")
    found = problems(tmp_data, tmp_sources)
    assert len(found) == 4, found
    for problem in found:
        assert re.match(r"^\S+\.(yml|txt):\d+: ", problem), problem


def test_documents_record_quotes_are_checked(tmp_data, problems):
    path = tmp_data / "documents.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("quote: 于7月31日前联合行文", "quote: 于8月31日前联合行文"), encoding="utf-8")
    found = problems(tmp_data)
    assert any("documents.yml" in p and "cnipa-2017-30" in p and "8月31日" in p for p in found), found


def test_validated_copy_loads_when_untouched(tmp_data):
    clear_cache()
    kb = load_kb(data_dir=Path(tmp_data))
    assert len(kb.measures) == 89
