"""The command line, run as staff run it: `python -m policies_kb …` in a subprocess."""

from __future__ import annotations

import json
import re

import pytest

from policies_kb.cli import display_width, main, pad, table, wrap


class Run:
    """The outcome of one in-process run of the CLI."""

    def __init__(self, returncode: int, out: str, err: str) -> None:
        self.returncode, self.out, self.err = returncode, out, err


@pytest.fixture
def run(capsys):
    """`run(*args)`: the CLI's main() in this process (faster than a subprocess; same code path)."""

    def call(*args: str) -> Run:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exits (usage errors, --help)
            code = exc.code
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return call


def no_traceback(result) -> None:
    """User errors never show a Python traceback."""
    assert "Traceback" not in result.out and "Traceback" not in result.err, result.err


# ---- search ----------------------------------------------------------------------------------

def test_search_prints_ranked_hits_with_citations(cli):
    result = cli("search", "质押贷款贴息")
    assert result.returncode == 0, result.err
    assert "沪府办发〔2024〕7号" in result.out
    assert "第(二十六)项" in result.out
    lines = result.out.splitlines()
    first = next(line for line in lines if line.startswith("1."))
    assert "落实知识产权质押贷款贴息" in first and re.search(r"得分 \d+\.\d\d$", first)
    assert "责任单位" in result.out and "市知识产权局" in result.out
    assert "Building prefix dict" not in result.err  # jieba's chatter is kept quiet


def test_search_marks_inferred_agencies(run):
    result = run("search", "专利密集型产品 备案平台", "--region", "大同", "--limit", "1")
    assert result.returncode == 0, result.err
    assert "（推定）" in result.out
    assert "国家专利密集型产品备案认定试点平台" in result.out
    assert result.out.count("得分") == 1


def test_search_json_has_full_records(run):
    result = run("search", "海外维权援助", "--json", "--limit", "3")
    assert result.returncode == 0, result.err
    hits = json.loads(result.out)
    assert [hit["rank"] for hit in hits] == [1, 2, 3]
    first = hits[0]
    for key in ("id", "title", "text", "citation", "region", "document", "agencies", "platforms", "targets",
                "deadlines", "topics", "section_path", "score"):
        assert key in first, key
    assert first["id"] in ("datong-9", "shipa-16")


def test_search_filters(run):
    result = run("search", "专利", "--region", "全国", "--topic", "pilot_city_application", "--json", "--limit", "50")
    assert result.returncode == 0, result.err
    hits = json.loads(result.out)
    assert hits and all(h["region"] == "全国" and "pilot_city_application" in h["topics"] for h in hits)
    result = run("search", "专利", "--platform", "专利导航平台", "--json")
    assert {h["id"] for h in json.loads(result.out)} == {"datong-3", "shgov-1", "shgov-7"}
    result = run("search", "金融", "--agency", "市委金融办", "--json")
    assert json.loads(result.out) and all(
        any(a["agency_id"] == "sh-finance-office" for a in h["agencies"]) for h in json.loads(result.out))


def test_search_without_hits_says_so(run):
    result = run("search", "😀🙃")
    assert result.returncode == 0
    assert "未找到" in result.out
    assert json.loads(run("search", "😀🙃", "--json").out) == []


# ---- show ------------------------------------------------------------------------------------

def test_show_prints_everything_about_a_measure(cli):
    result = cli("show", "shgov-25")
    assert result.returncode == 0, result.err
    out = result.out
    assert "300亿元" in out and "2000家" in out
    assert "2025年底" in out
    assert "《上海市专利转化运用专项行动实施方案》（沪府办发〔2024〕7号）第(二十五)项" in out
    assert "六、推动知识产权金融工作提质增效" in out  # section path
    assert "加大知识产权质押普惠贷款供给,鼓励银行机构" in out  # verbatim text, as in the source
    assert "金融监管总局上海监管局" in out and "中国人民银行上海市分行" in out
    assert "有效性" in out and "受益对象" in out and "主题" in out


def test_show_expired_document_has_its_validity_note(run):
    result = run("show", "cnipa-procedure-2")
    assert result.returncode == 0, result.err
    assert "7月31日前" in result.out and "2017年7月31日" in result.out
    assert "申报已结束" in result.out and "（推定）" in result.out


def test_show_json(run):
    result = run("show", "shgov-26", "--json")
    assert result.returncode == 0, result.err
    record = json.loads(result.out)
    assert record["id"] == "shgov-26" and record["region"] == "上海"
    assert "沪府办发〔2024〕7号" in record["citation"]
    assert [(a["as_written"], a["inferred"]) for a in record["agencies"]] == [
        ("市知识产权局", False), ("各区政府", False),
    ]
    assert record["document"] == "上海市专利转化运用专项行动实施方案"


def test_show_unknown_id_exits_2_with_a_chinese_message(cli):
    result = cli("show", "nope")
    assert result.returncode == 2
    assert "未找到" in result.err and "nope" in result.err
    assert result.out == ""
    no_traceback(result)


def test_show_near_miss_suggests_ids(run):
    result = run("show", "shgov-255")
    assert result.returncode == 2
    assert "shgov-25" in result.err


# ---- list, agencies, platforms -----------------------------------------------------------------

def test_list_json_has_all_89_measures(cli):
    result = cli("list", "--json")
    assert result.returncode == 0, result.err
    records = json.loads(result.out)
    assert len(records) == 89
    assert len({r["id"] for r in records}) == 89
    for record in records:
        assert record["id"] and record["citation"] and record["text"], record.get("id")
        assert record["region"] in ("上海", "大同", "全国")


def test_list_human_groups_by_document(run):
    result = run("list", "--region", "大同")
    assert result.returncode == 0, result.err
    assert "共 16 条措施" in result.out
    assert "datong-16" in result.out and "shgov-1 " not in result.out
    result = run("list", "--topic", "financing", "--json")
    assert all("financing" in r["topics"] for r in json.loads(result.out))


def test_agencies_lists_names_and_counts(run):
    result = run("agencies", "--json")
    assert result.returncode == 0, result.err
    agencies = {a["id"]: a for a in json.loads(result.out)}
    assert agencies["sh-ipa"]["name"] == "上海市知识产权局"
    assert "市知识产权局" in agencies["sh-ipa"]["aliases"]
    assert agencies["sh-ipa"]["measure_count"] >= 30
    assert {f"shgov-{n}" for n in range(1, 31)} <= set(agencies["sh-ipa"]["measures"])
    human = run("agencies")
    assert human.returncode == 0
    line = next(line for line in human.out.splitlines() if line.startswith("sh-ipa "))
    assert "上海市知识产权局" in line and str(agencies["sh-ipa"]["measure_count"]) in line


def test_platforms_lists_names_and_counts(run):
    result = run("platforms", "--json")
    assert result.returncode == 0, result.err
    platforms = {p["id"]: p for p in json.loads(result.out)}
    assert platforms["national-patent-navigation-platform"]["measure_count"] == 3
    assert platforms["sh-ip-exchange"]["measures"] == ["shipa-12"]
    human = run("platforms")
    assert "国家专利导航综合服务平台" in human.out and "datong-3、shgov-1、shgov-7" in human.out


# ---- validate and build ----------------------------------------------------------------------

def test_validate_passes_on_the_real_kb(cli):
    result = cli("validate")
    assert result.returncode == 0, result.out + result.err
    assert result.out.startswith("知识库校验通过：89 条措施，4 份文件")


def test_validate_on_a_corrupted_copy_exits_1_and_names_the_file(cli, tmp_data, measure_file):
    file = measure_file("shanghai-gov-2024-7")
    file.replace_in_entry("shgov-25", "超过300亿元", "超过400亿元", key="text")
    result = cli("--data-dir", str(tmp_data), "validate")
    assert result.returncode == 1
    assert f"shanghai-gov-2024-7.yml:{file.entry_line('shgov-25')}:" in result.out
    assert "shgov-25" in result.out and "verbatim" in result.out
    no_traceback(result)


def test_validate_option_after_the_command(run, tmp_data, measure_file):
    measure_file("datong-2023-zjtx").delete_entry("datong-16")
    result = run("validate", "--data-dir", str(tmp_data))
    assert result.returncode == 1
    assert "datong-2023-zjtx.yml" in result.out and "expected 16" in result.out


def test_broken_yaml_exits_1_without_traceback(cli, run, tmp_data, measure_file):
    line = measure_file("cnipa-2017-30").replace_in_entry("cnipa-contacts", "  title:", "    title:", key="title")
    result = cli("--data-dir", str(tmp_data), "validate")
    assert result.returncode == 1
    assert f"cnipa-2017-30.yml:{line}:" in result.out
    no_traceback(result)
    for command in (["search", "试点城市"], ["show", "shgov-1"], ["list", "--json"]):
        result = run("--data-dir", str(tmp_data), *command)
        assert result.returncode == 1, command
        assert f"cnipa-2017-30.yml:{line}:" in result.out + result.err, command


def test_corrupted_sources_exit_1(run, tmp_data, tmp_sources):
    path = tmp_sources / "datong-2023-zjtx.txt"
    path.write_bytes(path.read_bytes() + b" ")
    result = run("--data-dir", str(tmp_data), "--sources-dir", str(tmp_sources), "validate")
    assert result.returncode == 1
    assert "datong-2023-zjtx.txt" in result.out and "SHA-256" in result.out


def test_missing_data_dir_exits_1(run, tmp_path):
    result = run("--data-dir", str(tmp_path / "nowhere"), "list")
    assert result.returncode == 1
    assert "documents.yml" in result.out
    no_traceback(result)


def test_build_on_a_copy_changes_nothing_and_validates(cli, tmp_data):
    before = {p.name: p.read_bytes() for p in (tmp_data / "measures").iterdir()}
    result = cli("build", "--data-dir", str(tmp_data))
    assert result.returncode == 0, result.out + result.err
    assert result.out.count("无变化") == 4
    assert "知识库校验通过：89 条措施" in result.out
    assert {p.name: p.read_bytes() for p in (tmp_data / "measures").iterdir()} == before


def test_build_recreates_a_lost_file_but_reports_missing_curation(run, tmp_data):
    (tmp_data / "measures" / "datong-2023-zjtx.yml").unlink()
    result = run("build", "--data-dir", str(tmp_data))
    assert result.returncode == 1
    assert "已更新" in result.out and (tmp_data / "measures" / "datong-2023-zjtx.yml").exists()
    assert "has no topic" in result.out
    no_traceback(result)


# ---- bad arguments ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    ([], "缺少必需的参数"),
    (["frobnicate"], "无效"),
    (["show"], "缺少必需的参数"),
    (["search"], "缺少必需的参数"),
    (["search", "专利", "--limit", "many"], "不是整数"),
    (["search", "专利", "--limit", "0"], "--limit"),
    (["search", "专利", "--region", "火星"], "无法识别的地区"),
    (["search", "专利", "--topic", "nonsense"], "无法识别的主题"),
    (["search", "专利", "--agency", "火星知识产权局"], "无法识别的机构"),
    (["search", "专利", "--platform", "月球交易所"], "无法识别的平台"),
    (["search", "   "], "检索词不能为空"),
    (["list", "--bogus"], "无法识别的参数"),
])
def test_bad_arguments_exit_2_in_chinese(run, args, words):
    result = run(*args)
    assert result.returncode == 2, (args, result.out, result.err)
    assert words in result.err
    no_traceback(result)


def test_help_is_chinese(run):
    result = run("--help")
    assert result.returncode == 0
    assert "用法" in result.out and "检索" in result.out


def test_output_is_utf8_whatever_the_locale(cli):
    result = cli("show", "shgov-1", env={"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.err
    assert "高校、科研机构和医疗卫生机构" in result.out


# ---- in-process: the same entry point, and the layout helpers --------------------------------

def test_main_in_process(capsys):
    assert main(["show", "nope"]) == 2
    assert "未找到" in capsys.readouterr().err
    assert main(["search", "专利超市", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "shgov-10" in out and "得分" in out


def test_display_width():
    assert display_width("abc") == 3
    assert display_width("上海") == 4
    assert display_width("上海ab，") == 8
    assert display_width("（推定）") == 8
    assert display_width("") == 0
    assert display_width("e\u0301") == 1  # a combining accent takes no column


def test_pad_and_table_align_by_display_width():
    assert display_width(pad("上海", 10)) == 10
    lines = table(("编号", "名称"), [("a", "上海市知识产权局"), ("datong-1", "大同")], width=80)
    columns = [display_width(line.split("  ")[0]) for line in lines if not line.startswith("─")]
    starts = {display_width(line[: line.index(name)]) for line, name in zip(
        [lines[0], lines[2], lines[3]], ["名称", "上海市知识产权局", "大同"], strict=True)}
    assert len(starts) == 1, lines
    assert columns


def test_wrap_respects_width_and_keeps_punctuation_off_line_starts():
    text = "加大知识产权质押普惠贷款供给，鼓励银行机构将知识产权质押普惠贷款绩效作为加分项。" * 3
    lines = wrap(text, 20)
    assert "".join(lines) == text
    assert all(display_width(line) <= 22 for line in lines)
    assert not any(line[:1] in "，。、；：" for line in lines)
