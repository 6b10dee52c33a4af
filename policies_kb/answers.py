"""Answer assembly: choose the measures for a question and turn them into the values a reply shows.

Everything here is taken from KB fields (summaries are cut from the verbatim text); the framing
sentences a user reads live in the Rasa domain's responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .aspects import Aspect, asked_aspect, stating, states_itself, without_aspect_words
from .kb import KnowledgeBase, normalise_region
from .labels import agencies_text, platforms_text  # noqa: F401 - the chat's wording, imported from here by actions/
from .model import Measure
from .search import TopicHint, as_topics

PAGE_SIZE = 3
SUBSTANCE_SCORE = 15.0  # a search score above which a message clearly names a KB subject
CONFIDENT_SCORE = 25.0  # a search score at which a low-confidence message is answered directly
RELEVANCE_FLOOR = 12.0  # below this, a question that names no topic, agency, platform or document is not covered
REGION_ORDER = ("上海", "大同", "全国")
FOLLOW_UP_FILLER = re.compile(
    r"这个|这条|这项|这些|那个|那条|刚才|上面|以上|是|哪个|哪些|什么|部门|单位|负责|归谁管|谁管|找谁|"
    r"平台|网站|哪里|去哪|在哪|办理|原文|全文|怎么写|目标|数字|指标|多少|截止|期限|有效|过期|时间|"
    r"联系人|联系|电话|邮箱|还有|更多|其他|别的|呢|吗|啊|的|了|请问|那|要|能|可以|一下|看看|具体"
)


@dataclass
class Selection:
    """The measures chosen for an answer, and the rest kept for "还有吗"."""

    shown: List[Measure]
    remaining: List[Measure] = field(default_factory=list)
    region: Optional[str] = None
    region_relaxed: bool = False


def _sentences(measure: Measure) -> List[str]:
    """The sentences of a measure's text (lead phrase dropped, indentation removed)."""
    text = measure.text.strip()
    lead = measure.title
    if lead and text.startswith(lead + "。"):
        text = text[len(lead) + 1:]
    text = "".join(line.strip() for line in text.splitlines() if line.strip())
    return [s for s in re.findall(r"[^。；]+[。；]?", text) if s.strip()]


def _shorten(sentence: str, limit: int) -> str:
    """Cut an over-long sentence at a comma before the limit."""
    if len(sentence) <= limit + 30:
        return sentence
    cut = max(sentence.rfind("，", 0, limit), sentence.rfind(",", 0, limit))
    return sentence[: cut if cut > 20 else limit] + "……"


def summary(measure: Measure, query_words: Sequence[str] = (), limit: int = 130) -> str:
    """One or two sentences from the verbatim text: the first, or those the question is about."""
    sentences = _sentences(measure)
    if not sentences:
        return ""
    chosen = [0]
    if query_words:
        scores = [sum(len(w) for w in set(query_words) if w in s) for s in sentences]
        best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
        if scores[best] > scores[0]:
            chosen = [best] if len(sentences[0]) + len(sentences[best]) > limit * 1.6 else [0, best]
    if len(chosen) == 1 and chosen[0] + 1 < len(sentences) and len(sentences[chosen[0]]) < limit * 0.5:
        chosen.append(chosen[0] + 1)
    return "".join(_shorten(sentences[i], limit) for i in sorted(set(chosen)))


def figures_text(measure: Measure) -> str:
    """Targets and figures with their deadlines, e.g. 到2025年底：…超过300亿元."""
    parts = []
    for target in measure.targets:
        deadline = f"（{target.deadline_text}）" if target.deadline_text else ""
        parts.append(f"{target.quote}{deadline}" if target.deadline_text and target.deadline_text not in target.quote else target.quote)
    return "；".join(parts)


def deadlines_text(measure: Measure) -> str:
    """Deadlines and periods stated in the measure, as written."""
    return "；".join(dict.fromkeys(d.quote for d in measure.deadlines))


def clean_text(measure: Measure) -> str:
    """The verbatim text with the source's indentation removed from each line."""
    return "\n".join(line.strip() for line in measure.text.splitlines() if line.strip())


def query_words(kb: KnowledgeBase, query: str) -> List[str]:
    """The question's words and the policy terms its synonyms stand for."""
    if not query:
        return []
    words, canonical, _ = kb.index.expand(query)
    return [w for w in words + canonical if len(w) >= 2]


def outside_subject(kb: KnowledgeBase, text: str) -> bool:
    """Whether a question is about a matter or a place the documents do not cover (商标续展, 深圳的政策)."""
    if kb.documents_in(text):
        return False
    return bool(kb.neighbours_in(text) or kb.other_places_in(text))


def is_covered(kb: KnowledgeBase, text: str, topic_hint: TopicHint = None) -> bool:
    """Whether the documents plausibly address a question: a strong match, or a named subject.

    A topic the NLU is confident about (``topic_hint``) is trusted when the evidence is there: a provision
    of that topic shares a word with the question.
    """
    if not text:
        return True
    if outside_subject(kb, text):
        return False
    if kb.index.query_topics(text) or kb.platforms_in(text) or kb.agencies_in(text) or kb.documents_in(text):
        return True
    hits = kb.search(text, topic_hint=topic_hint, limit=3)
    if hits and hits[0].score >= RELEVANCE_FLOOR:
        return True
    hinted = set(as_topics(topic_hint))
    return any(hit.matched and hinted.intersection(hit.measure.topics) for hit in hits)


def has_substance(kb: KnowledgeBase, text: str) -> bool:
    """Whether a follow-up also names a subject of its own (a topic, platform or agency)."""
    rest = FOLLOW_UP_FILLER.sub(" ", text or "")
    if kb.platforms_in(rest) or kb.agencies_in(rest) or kb.documents_in(text or ""):
        return True
    if kb.index.query_topics(rest):
        return True
    hits = kb.search(rest, limit=1)
    return bool(hits) and hits[0].score >= SUBSTANCE_SCORE


def names_new_subject(kb: KnowledgeBase, text: str, shown: Sequence[Measure]) -> bool:
    """Whether a follow-up names a subject of its own rather than the measures just shown."""
    if not text or not has_substance(kb, text):
        return False
    if not shown:
        return True
    if kb.platforms_in(text) or kb.agencies_in(text):
        return True
    shown_topics = {topic for m in shown for topic in m.topics}
    new_topics = kb.index.query_topics(text) - shown_topics
    if not new_topics:
        return False
    # a topic word alone (评上 for 认定) is no new subject unless the message's own best matches are on it
    return any(new_topics.intersection(hit.measure.topics) for hit in kb.search(text, limit=3) if hit.score >= SUBSTANCE_SCORE)


def aspect_of_follow_up(kb: KnowledgeBase, text: str, shown: Sequence[Measure]) -> Optional[Aspect]:
    """The aspect a message asks about the measures just shown (能补多少？收费吗？), if it is such a follow-up."""
    if not shown or not text or kb.neighbours_in(text) or kb.other_places_in(text):
        return None
    aspect = asked_aspect(text)
    if aspect is None or not aspect.reports_absence:
        return None
    if names_new_subject(kb, without_aspect_words(aspect, text), shown):
        return None
    return aspect


def focus_words(kb: KnowledgeBase, text: str, candidates: Sequence[Measure]) -> List[Measure]:
    """The candidates a follow-up singles out by a word of their own (托管那块怎么说的, 前补偿那条原文)."""
    words = [w for w in kb.tokenizer.words(FOLLOW_UP_FILLER.sub(" ", text or "")) if len(w) >= 2]
    distinctive = [w for w in words if 0 < sum(1 for m in candidates if w in m.title or w in m.text) <= 2]
    return [m for m in candidates if any(w in m.title or w in m.text for w in distinctive)]


def select(kb: KnowledgeBase, query: str, region: Optional[str] = None, region_from_context: bool = False,
           topic_hint: TopicHint = None, exclude: Sequence[str] = (), limit: int = PAGE_SIZE) -> Selection:
    """Choose the measures to show for a question: best first, several regions when none is set."""
    region = normalise_region(region) if region else None
    explicit = region if region and not region_from_context else None  # asked for: wins over a document it excludes
    hits_all = kb.search(query, region=explicit, topic_hint=topic_hint, exclude=exclude, limit=30)
    if not hits_all:
        return Selection([], [], region)
    if region:
        hits = [h for h in hits_all if kb.region_of(h.measure) == region]
        relaxed = False
        if region_from_context and (not hits or hits[0].score < 0.45 * hits_all[0].score):
            hits, relaxed = hits_all, True
        if not hits:
            return Selection([], [], region)
        shown = [h.measure for h in hits if h.score >= 0.45 * hits[0].score][:limit]
        rest = [h.measure for h in hits if h.measure not in shown and h.score >= 0.2 * hits[0].score]
        return Selection(shown, rest, None if relaxed else region, relaxed)
    top = hits_all[0].score
    chosen: List[Measure] = [hits_all[0].measure]
    best_by_region: Dict[str, float] = {}
    for hit in hits_all:
        best_by_region.setdefault(kb.region_of(hit.measure), hit.score)
    for hit in hits_all[1:]:
        if len(chosen) >= limit:
            break
        measure = hit.measure
        region_of = kb.region_of(measure)
        covered = {kb.region_of(m) for m in chosen}
        missing = [r for r, s in best_by_region.items() if r not in covered and s >= 0.5 * top]
        if missing and region_of not in missing and len(chosen) + len(missing) >= limit:
            continue
        if hit.score >= 0.35 * top:
            chosen.append(measure)
    ordered_rest = [h.measure for h in hits_all if h.measure not in chosen and h.score >= 0.2 * top]
    regions_rank = {r: i for i, r in enumerate(dict.fromkeys(kb.region_of(m) for m in chosen))}
    chosen.sort(key=lambda m: regions_rank[kb.region_of(m)])
    return Selection(chosen, ordered_rest, None)


def discriminating_topics(kb: KnowledgeBase, measure: Measure) -> set:
    """A measure's topics less those every provision of its document has (试点城市申报 in the 2017 notice)."""
    shared = set.intersection(*(set(m.topics) for m in kb.measures if m.document_id == measure.document_id))
    return set(measure.topics) - shared


def focus_on_aspect(kb: KnowledgeBase, selection: Selection, question: str, topic_hint: TopicHint = None,
                    aspect: Optional[Aspect] = None) -> tuple[Selection, Optional[Aspect], bool]:
    """The selection with the provisions that state the asked aspect first; the aspect; whether any states it.

    Candidates are the answer's first measures and the question's other matches in the same documents on
    the best measure's own topics (all of them when it has none but its document's); those whose heading
    states the aspect come first: 申报要满足什么条件 puts 申报条件 first, and the pilot-city procedure
    answers neither 专利导航服务怎么申请 nor 银河培训工程怎么报名. ``aspect``, when given, is the one asked
    (a follow-up's, when ``question`` joins it to the question it follows).
    """
    aspect = aspect or asked_aspect(question)
    if aspect is None or not selection.shown:
        return selection, aspect, True
    pool = selection.shown + selection.remaining
    documents = {m.document_id for m in selection.shown}
    # an aspect stated per provision (a fee, an amount) is stated by the answer's own provisions or not at all:
    # another provision's 免费 says nothing of this one's fee
    first = pool[: 2 * PAGE_SIZE] if aspect.of_document else list(selection.shown)
    topics = discriminating_topics(kb, selection.shown[0])
    wider = [h.measure for h in kb.search(question, topic_hint=topic_hint, limit=60)
             if h.measure.document_id in documents and h.measure not in first
             and (not topics or topics.intersection(h.measure.topics))] if aspect.of_document else []
    # a heading alone (四、政策支撑) states an aspect that only orders the answer; one that may be said not stated
    # needs the provision itself to state it, unless it was already shown
    lead = selection.shown[0].document_id
    stated = [m for m in stating(aspect, first + wider) if m in selection.shown or states_itself(aspect, m)
              or (not aspect.reports_absence and m.document_id == lead)]
    if not stated:
        return selection, aspect, not aspect.reports_absence
    ordered = stated + [m for m in pool if m not in stated]
    limit = len(selection.shown)
    return Selection(ordered[:limit], ordered[limit:], selection.region, selection.region_relaxed), aspect, True


def other_regions(kb: KnowledgeBase, measures: Sequence[Measure], current: Optional[str]) -> List[str]:
    """Regions to offer as buttons: those not already covered by the answer."""
    shown = {kb.region_of(m) for m in measures}
    if current:
        shown.add(current)
    return [r for r in REGION_ORDER if r not in shown]


def question_region(kb: KnowledgeBase, text: str, entity_value: Optional[str]) -> Optional[str]:
    """The region a message names: from its words (not inside agency or platform names), else the entity.

    The entity alone decides for button payloads, which carry no words.
    """
    if text:
        return kb.region_in(text)
    return normalise_region(entity_value) if entity_value else None
