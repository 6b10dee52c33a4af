"""What a question asks about a subject (a fee, a duration, the steps …) and whether a provision states it.

A question such as "专利导航服务收费吗" is about a subject the documents cover (专利导航) and an aspect
they may not state (a fee). The answer must then say plainly that the documents do not state it and show
the provisions on the subject as related ones, not as the answer. When a provision does state the aspect,
it comes first. Detection reads the normalised question; evidence reads the provision's verbatim text, its
section headings and its structured targets and deadlines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, List, Optional, Sequence

from .model import Measure

AWARD = re.compile(r"补贴|补助|资助|贴息|贴费|贴补|报销|减免|奖励|奖补|扶持|支持")
PAYING = re.compile(r"(?:花|交|付|收|掏)(?:了|掉)?多少钱")  # 花多少钱 asks a fee, 补多少钱 an amount
COLLOQUIAL = (("咋", "怎么"), ("啥", "什么"))  # read as the patterns write them: 咋申请, 要准备啥
HOW_OFTEN = re.compile(r"(?:多久|多长时间|几个月|几年)[^，,。？?]{0,3}一次|(?:一年|每年|一个月|每月)[^，,。？?]{0,3}几次")  # a frequency
MONEY = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?元|\d+(?:\.\d+)?\s*[%％]")


@dataclass(frozen=True)
class Aspect:
    """One aspect a question can ask about: how it is asked, what it is called, how a provision states it."""

    id: str
    label: str  # as the reply names it: 文件没有写明{label}
    asked: re.Pattern
    states: Callable[[Measure], bool]
    unless: Optional[re.Pattern] = None  # a question with these words asks something else
    reports_absence: bool = True  # False: only puts the provisions that state it first, never "not stated"
    of_document: bool = False  # stated once for a whole document (its contacts, deadline, procedure), not per provision
    wording: Optional[re.Pattern] = None  # other words that belong to asking it (奖励 in 有奖励吗 奖多少钱), not to the subject


def _text(measure: Measure) -> str:
    """Headings and text of a provision, as one string."""
    return " ".join([*measure.section_path, measure.title, measure.text])


def _sentences_with(measure: Measure, *patterns: re.Pattern) -> bool:
    """Whether one sentence of the provision matches every pattern."""
    return any(all(p.search(s) for p in patterns) for s in re.split(r"[。；;]", measure.text))


def _pattern(expression: str) -> Callable[[Measure], bool]:
    """Evidence: the headings or text match a regular expression."""
    compiled = re.compile(expression)
    return lambda measure: bool(compiled.search(_text(measure)))


ASPECTS: Sequence[Aspect] = (
    Aspect("contact", "联系人和联系电话", re.compile(r"电话(?!问|咨询|来问)|联系人|联系方式|邮箱|热线|手机号|号码|怎么联系|如何联系"),
           _pattern(r"联系人|联系电话|电\s*话|\d{3,4}-\d{7,8}")),
    Aspect("deadline", "截止或举办时间", re.compile(
        r"截止|截至|最晚|什么时候(?:之?前|开始|结束|办|举办|开展)|啥时候(?:办|举办|开展|开始)|何时|哪天|几号"),
           lambda m: bool(m.deadlines) or any(t.deadline for t in m.targets)
           or bool(re.search(r"\d{4}年\d{1,2}月\d{1,2}日", m.text))),
    Aspect("address", "具体地址或网址", re.compile(
        r"地址|网址|链接|门牌|设在哪|设在什么地方|在哪条路|哪几个县|哪几个区|在哪个区|官网是|网站是多少|怎么走"),
           _pattern(r"地址|位于|坐落|https?://|www\.|\d+号")),
    Aspect("hours", "服务或办公时间", re.compile(r"几点|服务时间|开放时间|办公时间|上班时间|营业时间|周末"),
           _pattern(r"\d{1,2}[:：]\d{2}|\d{1,2}点|周一|工作日")),
    Aspect("period", "期限长短", re.compile(r"几年|多少年|为期多久|试点期|试点时间|试点.{0,3}(?:多久|多长)"),
           _pattern(r"\d{4}年至\d{4}年|为期|\d+年")),
    Aspect("duration", "办理所需时间", re.compile(
        r"多久|多长时间|几天|几个月|多少天|工作日|要等|时长|多快|多少时间|周期多长|期限多长|时限|办结"),
           _pattern(r"\d+\s*个?(?:工作日|日|天|周|个月)(?:内|以内)|当日办结|即时办结"), unless=HOW_OFTEN),
    Aspect("scoring", "评分标准或打分细则", re.compile(r"打分|评分|分值|计分|权重|评审细则|评选细则"),
           _pattern(r"评分|打分|分值|计分|权重")),
    Aspect("assessment", "评审方式", re.compile(r"评审|评选|怎么评|如何评|怎么确定|如何确定|怎么选出|遴选"),
           _pattern(r"评审|评选|遴选|择优")),
    Aspect("reporting", "报送要求", re.compile(r"报送|总结|每年.{0,6}(?:报|交)|上报|汇报"),
           _pattern(r"报送|工作总结")),
    Aspect("materials", "需要提交的材料", re.compile(r"材料|资料|申报书|(?:提交|准备|交|带)(?:什么|哪些)|提供(?:什么|哪些)(?:材料|资料|文件|东西|证明)|(?:什么|哪些)证明"),
           _pattern(r"申报材料|申报书|申报表|申报方案|提交.{0,12}(?:材料|方案)|报送.{0,12}(?:材料|方案)|附.{0,30}材料")),
    Aspect("applicants", "适用对象", re.compile(
        r"哪些城市可以|什么城市可以|哪些单位可以|哪些企业可以|什么企业可以|也行吗|也能报|适用于哪|面向哪些|"
        r"申报对象|适用对象|(?<!还)(?<!现在)(?:能不能报|能报吗|可以报吗|能不能申报|能申报吗|可以申报吗)"),
           _pattern(r"申报对象|对象为|适用于|面向")),
    Aspect("tasks", "工作内容", re.compile(r"开展哪些工作|要干哪些|要做哪些|做哪些事|干什么|试点内容|主要任务|重点任务|要做什么|哪些工作"),
           _pattern(r"试点内容|工作内容|主要任务|重点任务"), reports_absence=False),
    Aspect("support", "支持措施", re.compile(r"实惠|好处|福利|优惠|政策支撑|配套支持|能得到什么|(?:有啥|有什么|有哪些|给哪些|给什么|哪些)(?:政策)?(?:支持|扶持)"),
           _pattern(r"政策支撑|支持政策"), reports_absence=False),
    Aspect("conditions", "申请条件", re.compile(
        r"条件|门槛|资格|(?:申请|申报|认定|参评|评选|报名)[^，,。？?]{0,6}要求|认定标准|评选标准|申报标准|够格|够不够|"
        r"(?:满足|符合|具备)什么"),
           _pattern(r"申报条件|应当具备|须具备|具备以下|满足以下|以下条件|下列条件|申报对象")),
    Aspect("procedure", "具体的申请办理流程", re.compile(
        r"流程|步骤|手续|程序|怎么申请|如何申请|怎样申请|怎么办理|如何办理|怎么报名|如何报名|怎么申报|如何申报|"
        r"怎么参加|如何参加|怎么加入|如何加入|怎么操作|(?:怎么|如何)(?:报|提交|参与|对接|申领|领取)"),
           _pattern(r"申报材料及程序|申报程序|申请程序|办理程序|办理流程|按程序|流程如下")),
    Aspect("amount", "具体的金额、比例或标准", re.compile(
        r"(?:补|给|贴|奖|抵|能拿|能贷|贷|奖励|资助|补贴|补助|贴息|扶持|支持)(?:有|能有|大概|一般|能)?多少(?:钱)?|多少钱|金额|额度|比例|最高|上限|封顶|多少万|几万|"
        r"(?:补贴|补助|资助|奖励|贴息)标准|多少(?:补贴|补助|资助|奖励|奖金|贴息)|"
        r"利率|贴息率|费率|多少利息|面值|几个点|多少个点|几成|百分之几"),
           lambda m: _sentences_with(m, MONEY, AWARD), unless=PAYING, wording=AWARD),
    Aspect("pricing", "定价方式", re.compile(
        r"(?:费|价|价格|价钱)(?:该|要|应该)?怎么定|怎么定价|如何定价|定价|指导价|参考价|价格指导|怎么作价"),
           _pattern(r"定价|作价(?!入股|出资|投资)")),  # 作价入股 is a way to invest, not how a price is set
    Aspect("fee", "收费标准", re.compile(
        r"费用|收费|多少钱|要钱|花钱|收钱|交钱|付费|付钱|缴费|官费|价格|标准价|定价|什么价|贵不贵|免费|要不要钱|交多少|掏钱|自费|"
        r"(?:申报|评审|报名|服务|代理|手续|培训|咨询|使用|许可|托管)费|交[^，。？?]{0,6}费"),
           _pattern(r"收费|免费|\d+(?:\.\d+)?\s*元"), unless=AWARD),  # naming a fee (许可使用费定价指导) is not stating it
    Aspect("definition", "这个概念的定义", re.compile(r"什么是|是什么意思|啥意思|什么意思|指什么|指的是什么|定义|什么叫|是指|含义|概念|是个啥|是啥东西|是个什么|是什么东西|界定|"
                                           r"怎么理解|如何理解|咋理解|何谓"),
           _pattern(r"是指|指的是|所称|以下简称")),
)
# Aspects a document states once for all its provisions (the 2017 notice's contacts, deadline and procedure
# and pilot period answer a question about any of its measures); the others are stated, or not, by the provision itself:
# a 免费 in one provision says nothing of another's fee.
OF_DOCUMENT = frozenset({"contact", "deadline", "period", "scoring", "assessment", "reporting", "materials", "applicants", "tasks",
                         "support", "conditions", "procedure"})
ASPECTS = tuple(replace(aspect, of_document=aspect.id in OF_DOCUMENT) for aspect in ASPECTS)
BY_ID = {aspect.id: aspect for aspect in ASPECTS}


RELAYED = re.compile(r"^.{0,40}?(?:来电|打电话|电话|咨询|问)[^：:]{0,6}[：:]")


def question_part(text: str) -> str:
    """The question itself, without a relaying clerk's frame (有个企业打电话问：…, 来电：…)."""
    return RELAYED.sub("", text or "", count=1)


def plain_question_words(text: str) -> str:
    """咋 and 啥 as 怎么 and 什么, the words the patterns are written with."""
    for colloquial, plain in COLLOQUIAL:
        text = text.replace(colloquial, plain)
    return text


def asked_aspect(question: str) -> Optional[Aspect]:
    """The aspect a (normalised) question asks about, if any; the first in ASPECTS' order wins."""
    question = plain_question_words(question_part(question))
    for aspect in ASPECTS:
        if aspect.asked.search(question) and not (aspect.unless and aspect.unless.search(question)):
            return aspect
    return None


def without_aspect_words(aspect: Aspect, text: str) -> str:
    """The text with the words that ask the aspect blanked (能补多少 → 能补 …): what is left names the subject."""
    blanked = aspect.asked.sub(" ", plain_question_words(question_part(text)))
    return aspect.wording.sub(" ", blanked) if aspect.wording else blanked


def stating(aspect: Aspect, measures: Sequence[Measure]) -> List[Measure]:
    """The provisions that state the aspect: those whose own title states it first, then those under a heading
    that does and whose text states it too, then those whose text alone states it (申报对象 before a procedure
    that mentions 符合申报条件), then those that only sit under such a heading (批复实施 under 申报材料及程序
    says nothing of materials); each group in the given order."""
    found = [m for m in measures if aspect.states(m)]
    titled = [m for m in found if aspect.states(_heading_only(m, keep_sections=False))]
    headed = [m for m in found if m not in titled and aspect.states(_heading_only(m, keep_sections=True))]
    in_text = {m.id for m in found if aspect.states(_text_only(m))}
    return (titled + [m for m in headed if m.id in in_text] + [m for m in found if m not in titled and m not in headed]
            + [m for m in headed if m.id not in in_text])


def states_itself(aspect: Aspect, measure: Measure) -> bool:
    """Whether the provision's own title or text states the aspect (not only a heading it sits under)."""
    return aspect.states(replace(measure, section_path=()))


def _text_only(measure: Measure) -> Measure:
    """The measure without its title and section headings: to test its own text alone."""
    return replace(measure, title="", section_path=())


def _heading_only(measure: Measure, keep_sections: bool) -> Measure:
    """The measure with its text left out (and its section headings too, unless kept): to test its headings alone."""
    return replace(measure, text="", deadlines=(), targets=(),
                   section_path=measure.section_path if keep_sections else ())
