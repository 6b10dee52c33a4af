"""Unit tests of the evaluation scorer (evaluation.scoring), the BM25 baseline (evaluation.baseline) and
the runner's helpers, on small synthetic inputs; plus consistency checks against the real KB and set."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from evaluation import nlu_cv, run_eval, textout
from evaluation import traces as eval_traces
from evaluation.baseline import (
    BM25,
    BaselineAnswer,
    JiebaTokens,
    KeywordBaseline,
    Paragraph,
    build_paragraphs,
    heading_line,
    measure_span,
    score_baseline,
    split_paragraphs,
)
from evaluation.scoring import (
    Case,
    CitationIndex,
    ConversationScore,
    EvalSetError,
    doc_numbers,
    parse_multi_turn,
    parse_single_turn,
    payload_ids,
    rate,
    score_answer,
    summarise_multi,
    summarise_single,
    unknown_ids,
)
from settings import PROJECT_ROOT as ROOT


# Synthetic citations shaped like the real ones: 第1条 / 第11条 and 第(一)项 / 第(十一)项 must not be confused.
CITATIONS = {
    "sh-1": "《甲意见》（沪知局〔2023〕9号）第1条",
    "sh-11": "《甲意见》（沪知局〔2023〕9号）第11条",
    "dt-1": "乙局《乙意见》（2023年1月17日）第(一)项",
    "dt-11": "乙局《乙意见》（2023年1月17日）第(十一)项",
    "cn-sec": "《丙通知》（国知办发管字〔2017〕30号）二、申报",
    "cn-sub": "《丙通知》（国知办发管字〔2017〕30号）二、申报材料",
}
SHORT = {"sh-1": "沪知局〔2023〕9号 第1条", "dt-1": "乙局（2023年1月17日印发） 第(一)项"}


@pytest.fixture()
def index() -> CitationIndex:
    return CitationIndex(CITATIONS, SHORT)


def policy(cite_any, case_id="fin-001", text="专利质押贷款") -> Case:
    return Case(case_id, text, "policy", tuple(cite_any))


def kb_payload(*ids):
    return {"custom": {"type": "kb_answer", "measures": [{"id": i} for i in ids], "query": "q", "region": None}}


# ---------------------------------------------------------------------------------------------
# Citations in a text
# ---------------------------------------------------------------------------------------------
def test_cited_ids_in_order_of_first_occurrence(index):
    text = f"【1】…\n· 出处：{CITATIONS['dt-11']}\n【2】…\n· 出处：{CITATIONS['sh-1']}\n再次：{CITATIONS['dt-11']}"
    assert index.cited_ids(text) == ["dt-11", "sh-1"]


def test_article_numbers_are_not_confused(index):
    assert index.cited_ids(f"出处：{CITATIONS['sh-11']}") == ["sh-11"]
    assert index.cited_ids(f"出处：{CITATIONS['dt-11']}") == ["dt-11"]
    assert index.cited_ids(f"出处：{CITATIONS['sh-1']}。") == ["sh-1"]


def test_a_citation_nested_in_a_longer_one_is_not_counted(index):
    assert index.cited_ids(f"见{CITATIONS['cn-sub']}") == ["cn-sub"]
    both = f"见{CITATIONS['cn-sec']}工作；另见{CITATIONS['cn-sub']}"
    assert index.cited_ids(both) == ["cn-sec", "cn-sub"]


def test_no_citation_in_plain_or_empty_text(index):
    assert index.cited_ids("你好！我是知识产权政策助手。") == []
    assert index.cited_ids("") == []
    assert index.cited_ids(None) == []


def test_short_citations_and_doc_numbers(index):
    text = "点击查看：实施专利导航工程（沪知局〔2023〕9号 第1条）"
    assert index.short_cited_ids(text) == ["sh-1"]
    assert index.cited_ids(text) == []
    assert doc_numbers("沪府办发〔2024〕7号和国知办发管字［2017］30号") == ["〔2024〕", "［2017］"]
    assert doc_numbers("2024年目标10亿元，第(二十)项") == []


def test_payload_ids_reads_only_kb_answer_payloads():
    messages = [
        {"recipient_id": "u", "text": "找到2条"},
        kb_payload("sh-11", "dt-1", "sh-11"),
        {"recipient_id": "u", "custom": {"type": "other", "measures": [{"id": "cn-sec"}]}},
        {"recipient_id": "u", "custom": "not a mapping"},
    ]
    assert payload_ids(messages) == ["sh-11", "dt-1"]
    assert payload_ids([]) == []


# ---------------------------------------------------------------------------------------------
# Scoring one answer
# ---------------------------------------------------------------------------------------------
def test_policy_correct_when_any_expected_id_is_cited(index):
    text = f"出处：{CITATIONS['dt-1']}\n出处：{CITATIONS['sh-11']}"
    score = score_answer(policy(["sh-11", "cn-sub"]), text, [kb_payload("dt-1", "sh-11")], index)
    assert score.correct is True
    assert score.strict_correct is False  # first cited is dt-1
    assert score.payload_correct is True
    assert score.cited == ["dt-1", "sh-11"]
    assert "first citation dt-1" in score.reason


def test_policy_strict_when_first_citation_expected(index):
    text = f"出处：{CITATIONS['sh-11']}\n出处：{CITATIONS['dt-1']}"
    score = score_answer(policy(["sh-11"]), text, [], index)
    assert (score.correct, score.strict_correct, score.reason) == (True, True, "")


def test_policy_wrong_when_only_other_measures_cited(index):
    score = score_answer(policy(["sh-1"]), f"出处：{CITATIONS['sh-11']}", [kb_payload("sh-11")], index)
    assert (score.correct, score.strict_correct, score.payload_correct) == (False, False, False)
    assert score.reason == "cited other measures"


def test_policy_wrong_without_visible_citation_even_if_payload_has_it(index):
    """The text is what the user sees: a payload alone does not count (it is reported as a diagnostic)."""
    score = score_answer(policy(["dt-1"]), "实施知识产权质押融资促进工程……", [kb_payload("dt-1")], index)
    assert score.correct is False
    assert score.payload_correct is True
    assert score.reason == "no citation (payload: dt-1)"


def test_policy_short_citation_in_a_button_is_not_a_citation(index):
    score = score_answer(policy(["sh-1"]), "可能相关：\n实施专利导航工程（沪知局〔2023〕9号 第1条）", [], index)
    assert score.correct is False


def test_silent_case_correct_only_without_any_citation(index):
    oos = Case("oos-001", "今天天气怎么样", "out_of_scope")
    assert score_answer(oos, "抱歉，我只能回答知识产权政策问题。", [], index).correct is True

    leak = score_answer(oos, f"出处：{CITATIONS['sh-11']}", [kb_payload("sh-11")], index)
    assert (leak.correct, leak.strict_correct, leak.payload_correct) == (False, False, False)
    assert leak.reason == "cited sh-11"

    short = score_answer(oos, "试试：实施专利导航工程（沪知局〔2023〕9号 第1条）", [], index)
    assert short.correct is False and short.short_cited == ["sh-1"]

    number = score_answer(Case("chat-001", "你能做什么", "chitchat"), "我能回答 沪府办发〔2024〕7号 的问题", [], index)
    assert number.correct is False and number.payload_correct is True
    assert number.reason == "文号 〔2024〕"


def test_transport_error_is_a_failure(index):
    oos = Case("oos-002", "你好", "out_of_scope")
    score = score_answer(oos, "", [], index, error="ConnectionError: refused")
    assert score.correct is False and "error" in score.reason
    assert score_answer(policy(["sh-1"]), "", [], index, error="Timeout").correct is False


# ---------------------------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------------------------
def test_rate_and_single_turn_summary(index):
    good = f"出处：{CITATIONS['sh-1']}"
    scores = [
        score_answer(policy(["sh-1"], "fin-001"), good, [kb_payload("sh-1")], index),
        score_answer(policy(["sh-11"], "fin-002"), good, [kb_payload("sh-1")], index),
        score_answer(policy(["sh-1"], "tm-001"), f"出处：{CITATIONS['dt-1']}\n{good}", [kb_payload("dt-1", "sh-1")], index),
        score_answer(Case("oos-001", "天气", "out_of_scope"), "抱歉", [], index),
        score_answer(Case("chat-001", "你好", "chitchat"), good, [kb_payload("sh-1")], index),
    ]
    summary = summarise_single(scores)
    assert summary["overall"] == {"n": 5, "correct": 3, "accuracy": 0.6}
    assert summary["strict"]["correct"] == 2
    assert summary["policy"]["accuracy"] == pytest.approx(2 / 3)
    assert summary["silent_no_citation"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    assert summary["by_prefix"]["fin"]["accuracy"] == 0.5
    assert summary["by_prefix"]["tm"] == {"n": 1, "correct": 1, "accuracy": 1.0, "strict_accuracy": 0.0}
    assert list(summary["by_category"]) == ["policy", "out_of_scope", "chitchat"]
    assert summary["text_payload_disagreements"] == []
    assert rate([]) == {"n": 0, "correct": 0, "accuracy": None}


def test_conversation_correct_only_if_every_turn_is(index):
    good = f"出处：{CITATIONS['sh-1']}"
    ok = score_answer(policy(["sh-1"], "conv-01#1"), good, [kb_payload("sh-1")], index)
    bye = score_answer(Case("conv-01#2", "拜拜", "chitchat"), "再见", [], index)
    lost = score_answer(policy(["sh-1"], "conv-02#2"), "原文……", [kb_payload("sh-1")], index)
    conv1, conv2 = ConversationScore("conv-01", [ok, bye]), ConversationScore("conv-02", [ok, lost])
    assert conv1.correct and not conv2.correct
    assert conv2.payload_correct  # the payload still has the id
    assert not ConversationScore("conv-03", []).correct
    summary = summarise_multi([conv1, conv2])
    assert summary["conversations"] == {"n": 2, "correct": 1, "accuracy": 0.5}
    assert summary["turns"]["correct"] == 3
    assert summary["turns_by_position"]["turn 2"]["correct"] == 1
    assert summary["silent_turns_no_citation"]["accuracy"] == 1.0
    assert summary["text_payload_disagreements"] == ["conv-02#2"]
    assert conv2.to_dict()["turns"][1]["reason"] == "no citation (payload: sh-1)"


# ---------------------------------------------------------------------------------------------
# The evaluation-set schema
# ---------------------------------------------------------------------------------------------
def test_parse_single_turn_ignores_unknown_keys():
    cases = parse_single_turn({"cases": [
        {"id": "fin-002", "text": "上海 贴息", "category": "policy", "style": "region", "cite_any": ["a", "b"], "note": "x"},
        {"id": "oos-001", "text": "天气", "category": "out_of_scope"},
    ]})
    assert cases[0] == Case("fin-002", "上海 贴息", "policy", ("a", "b"))
    assert cases[0].prefix == "fin" and cases[0].is_policy
    assert not cases[1].is_policy and cases[1].cite_any == ()


@pytest.mark.parametrize("bad", [
    {"cases": [{"id": "a-1", "text": "x", "category": "policy"}]},                       # no cite_any
    {"cases": [{"id": "a-1", "text": "x", "category": "chitchat", "cite_any": ["m"]}]},  # silent with ids
    {"cases": [{"id": "a-1", "text": "x", "category": "smalltalk"}]},                    # unknown category
    {"cases": [{"id": "a-1", "text": "", "category": "chitchat"}]},                      # no text
    {"cases": [{"text": "x", "category": "chitchat"}]},                                  # no id
    {"cases": [{"id": "a-1", "text": "x", "category": "chitchat"},
               {"id": "a-1", "text": "y", "category": "chitchat"}]},                     # duplicate id
])
def test_parse_single_turn_rejects_bad_cases(bad):
    with pytest.raises(EvalSetError):
        parse_single_turn(bad)


def test_parse_multi_turn_infers_policy_turns():
    convs = parse_multi_turn({"conversations": [{"id": "conv-01", "turns": [
        {"text": "上海 贴息", "cite_any": ["m1"]}, {"text": "拜拜", "category": "chitchat"}]}]})
    turns = convs[0].turns
    assert [t.id for t in turns] == ["conv-01#1", "conv-01#2"]
    assert [t.category for t in turns] == ["policy", "chitchat"]
    assert turns[0].prefix == "conv"
    with pytest.raises(EvalSetError):
        parse_multi_turn({"conversations": [{"id": "conv-02", "turns": []}]})
    assert unknown_ids(turns, ["m2"]) == ["conv-01#1: m1"]


# ---------------------------------------------------------------------------------------------
# BM25 baseline
# ---------------------------------------------------------------------------------------------
def test_bm25_matches_a_hand_computation():
    docs = [["a", "b"], ["a", "c", "c"], ["d"]]
    bm25 = BM25(docs, k1=1.5, b=0.75)
    avgdl = 2.0
    idf_c = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    expected = idf_c * 2 * 2.5 / (2 + 1.5 * (1 - 0.75 + 0.75 * 3 / avgdl))
    assert bm25.score(["c"], 1) == pytest.approx(expected)
    assert bm25.score(["c"], 0) == 0.0
    assert bm25.idf("a") < bm25.idf("c")  # the commoner term weighs less
    assert bm25.idf("a") > 0  # the idf never goes negative
    assert bm25.score(["c", "c"], 1) == pytest.approx(expected)  # each distinct query term counts once
    assert bm25.best(["c"]) == (1, pytest.approx(expected))


def test_bm25_ties_go_to_the_earlier_document_and_no_match_scores_zero():
    bm25 = BM25([["x", "y"], ["x", "z"]])
    assert bm25.best(["x"])[0] == 0
    assert bm25.best(["nothing"]) == (0, 0.0)
    assert BM25([]).best(["x"]) == (-1, 0.0)


def test_bm25_prefers_shorter_documents_with_the_same_term_count():
    bm25 = BM25([["q", "f1", "f2", "f3", "f4"], ["q", "f5"]])
    assert bm25.best(["q"])[0] == 1


SOURCE = "标题\n\n一、总则\n（一）服务支撑\n第一条正文，\n第一条续行。\n（二）项目支撑\n第二条正文。\n\n附件\n"


def test_measure_span_and_heading_line():
    assert measure_span(SOURCE, "第一条正文，\n第一条续行。", 5) == (5, 6)
    assert measure_span(SOURCE, "第二条正文。", 8) == (8, 8)
    assert measure_span(SOURCE, "不在原文里\n两行", 5) == (5, 6)  # not found: source_line + line breaks
    assert heading_line(SOURCE, 5, "服务支撑") == 4
    assert heading_line(SOURCE, 4, "总则") == 3
    assert heading_line(SOURCE, 8, "服务支撑") is None
    assert heading_line(SOURCE, 5, "") is None


def test_build_paragraphs_maps_lines_to_measures():
    measures = [
        SimpleNamespace(id="m1", document_id="d", source_line=5, text="第一条正文，\n第一条续行。", title="服务支撑"),
        SimpleNamespace(id="m2", document_id="d", source_line=8, text="第二条正文。", title="项目支撑"),
        SimpleNamespace(id="x", document_id="other", source_line=1, text="无关", title=""),
    ]
    paragraphs = build_paragraphs({"d": SOURCE}, measures)
    assert split_paragraphs(SOURCE)[0] == (1, "标题")
    assert [(p.line, p.measure_ids) for p in paragraphs] == [
        (1, ()), (3, ()), (4, ("m1",)), (5, ("m1",)), (6, ("m1",)), (7, ("m2",)), (8, ("m2",)), (10, ()),
    ]


def test_keyword_baseline_answers_and_abstains():
    paragraphs = [
        Paragraph("d", 1, "质押 贷款 贴息", ("m-fin",)),
        Paragraph("d", 2, "专利 导航 平台", ("m-nav",)),
        Paragraph("d", 3, "附件 申报表", ()),
    ]
    baseline = KeywordBaseline(paragraphs, tokenizer=str.split)
    hit = baseline.answer("贷款 贴息 怎么 办")
    assert hit.paragraph.line == 1 and hit.measure_ids == ("m-fin",) and not hit.abstained
    assert score_baseline(policy(["m-fin"]), hit)
    assert not score_baseline(policy(["m-nav"]), hit)
    assert not score_baseline(Case("oos-001", "x", "out_of_scope"), hit)

    silent = baseline.answer("今天 天气")
    assert silent.abstained and silent.score == 0.0 and silent.measure_ids == ()
    assert score_baseline(Case("chat-001", "x", "chitchat"), silent)
    assert not score_baseline(policy(["m-fin"]), silent)

    unmapped = baseline.answer("申报表")
    assert unmapped.paragraph.line == 3 and not score_baseline(policy(["m-fin"]), unmapped)
    assert unmapped.to_dict()["document"] == "d"


def test_a_higher_threshold_makes_the_baseline_abstain():
    paragraphs = [Paragraph("d", 1, "质押 贷款", ("m",)), Paragraph("d", 2, "导航", ("n",))]
    answer = KeywordBaseline(paragraphs, tokenizer=str.split, threshold=100.0).answer("质押")
    assert isinstance(answer, BaselineAnswer) and answer.abstained and answer.measure_ids == ()


def test_jieba_tokens_drop_punctuation_and_lowercase():
    tokens = JiebaTokens()("专利质押贷款，贴息！ISO56005")
    assert "，" not in tokens and "！" not in tokens
    assert "iso56005" in tokens
    assert all(t.strip() for t in tokens)


# ---------------------------------------------------------------------------------------------
# Runner helpers
# ---------------------------------------------------------------------------------------------
def test_parse_intent_report():
    report = {
        "greet": {"precision": 1.0, "recall": 0.5, "f1-score": 0.6667, "support": 4, "confused_with": {"thank": 2}},
        "thank": {"precision": 0.6, "recall": 1.0, "f1-score": 0.75, "support": 3, "confused_with": {}},
        "accuracy": 0.714,
        "macro avg": {"precision": 0.8, "recall": 0.75, "f1-score": 0.70835, "support": 7},
        "weighted avg": {"precision": 0.83, "recall": 0.71, "f1-score": 0.70, "support": 7},
    }
    parsed = nlu_cv.parse_intent_report(report)
    assert parsed["macro_f1"] == 0.70835
    assert parsed["accuracy"] == 0.714
    assert set(parsed["per_intent"]) == {"greet", "thank"}
    assert parsed["per_intent"]["greet"]["confused_with"] == {"thank": 2}
    del report["macro avg"]
    assert nlu_cv.parse_intent_report(report)["macro_f1"] == pytest.approx((0.6667 + 0.75) / 2)


def test_nlu_command_and_arguments(tmp_path):
    cmd = nlu_cv.nlu_command(3, tmp_path)
    assert cmd[1:] == ["test", "nlu", "--nlu", "data", "--config", "config.yml", "--cross-validation",
                       "--folds", "3", "--out", str(tmp_path)]
    args = run_eval.parse_args(["--skip-nlu", "--target", "http://localhost:5005"])
    assert args.skip_nlu and args.folds == 5 and args.target == "http://localhost:5005"
    with pytest.raises(SystemExit):
        run_eval.parse_args(["--folds", "1"])


def test_table_aligns_chinese_text():
    lines = textout.table(["主题", "n"], [["融资", 10], ["fin", 2]]).splitlines()
    assert len({textout.width(line) for line in lines}) == 1
    assert textout.pct(None) == "-" and textout.pct(0.955) == "95.5%"
    assert textout.duration(3725) == "1h02m05s"


# ---------------------------------------------------------------------------------------------
# The real KB and evaluation set
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kb():
    from policies_kb import load_kb

    return load_kb()


def test_every_real_citation_maps_back_to_its_measure(kb):
    index = CitationIndex.from_kb(kb)
    for measure in kb.measures:
        assert index.cited_ids(f"· 出处：{kb.citation(measure)}\n") == [measure.id]
    everything = "\n".join(kb.citation(m) for m in kb.measures)
    assert index.cited_ids(everything) == [m.id for m in kb.measures]


def test_real_eval_set_loads_and_uses_known_ids(kb):
    from evaluation.scoring import load_multi_turn, load_single_turn

    cases = load_single_turn(ROOT / "tests" / "eval" / "single_turn.yml")
    convs = load_multi_turn(ROOT / "tests" / "eval" / "multi_turn.yml")
    turns = [t for c in convs for t in c.turns]
    assert len(cases) == 198 and len(convs) == 30 and len(turns) == 124
    assert unknown_ids([*cases, *turns], (m.id for m in kb.measures)) == []


def test_real_baseline_covers_every_measure(kb):
    baseline = KeywordBaseline.from_kb(kb, tokenizer=str.split)
    covered = {mid for p in baseline.paragraphs for mid in p.measure_ids}
    assert covered == {m.id for m in kb.measures}
    assert all(len(p.measure_ids) <= 1 for p in baseline.paragraphs)


def test_tracker_traces_and_attach(tmp_path, index):
    import json
    import sqlite3

    db = tmp_path / "rasa.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp FLOAT,"
                 " intent_name TEXT, action_name TEXT, data TEXT)")

    def user(name, conf, ranking=(), entities=()):
        return json.dumps({"event": "user", "metadata": {"model_id": "m42"}, "parse_data": {
            "intent": {"name": name, "confidence": conf},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
            "entities": [{"entity": e, "value": v} for e, v in entities]}})

    rows = [
        ("s-fin", "action", None, "action_session_start", None),
        ("s-fin", "action", None, "action_listen", None),
        ("s-fin", "user", "nlu_fallback", None,
         user("nlu_fallback", 0.45, [("nlu_fallback", 0.45), ("ask_financing", 0.31)])),
        ("s-fin", "action", None, "action_answer_fallback", None),
        ("s-conv", "user", "ask_financing", None, user("ask_financing", 0.99123, entities=[("region", "上海")])),
        ("s-conv", "action", None, "action_answer_policy_question", None),
        ("s-conv", "action", None, "action_listen", None),
        ("s-conv", "user", "thank", None, user("thank", 0.9)),
        ("s-conv", "action", None, "utter_thank", None),
        ("other", "user", "greet", None, user("greet", 1.0)),
    ]
    conn.executemany("INSERT INTO events (sender_id, type_name, intent_name, action_name, data) VALUES (?,?,?,?,?)", rows)
    conn.commit()
    conn.close()

    traces = eval_traces.tracker_traces(db, ["s-fin", "s-conv"])
    assert set(traces) == {"s-fin", "s-conv"}
    assert traces["s-fin"] == [{"intent": "nlu_fallback", "confidence": 0.45, "top_intent": "ask_financing",
                                "top_confidence": 0.31, "entities": [], "actions": ["action_answer_fallback"],
                                "model_id": "m42"}]
    assert [t["intent"] for t in traces["s-conv"]] == ["ask_financing", "thank"]
    assert traces["s-conv"][0]["confidence"] == 0.991 and traces["s-conv"][0]["entities"] == ["region=上海"]
    assert eval_traces.tracker_traces(tmp_path / "missing.db", ["s-fin"]) == {}

    single = score_answer(policy(["sh-1"]), "抱歉", [], index)
    single.sender = "s-fin"
    turns = [score_answer(policy(["sh-1"], "conv-01#1"), "x", [], index),
             score_answer(Case("conv-01#2", "谢谢", "chitchat"), "不客气", [], index)]
    for turn in turns:
        turn.sender = "s-conv"
    assert eval_traces.attach_traces([single], [ConversationScore("conv-01", turns)], db)
    assert eval_traces.trace_text(single) == "intent nlu_fallback 0.45 (top ask_financing 0.31) → action_answer_fallback"
    assert turns[1].trace["actions"] == ["utter_thank"]
    assert eval_traces.trace_text(turns[0]) == "intent ask_financing 0.991 [region=上海] → action_answer_policy_question"
