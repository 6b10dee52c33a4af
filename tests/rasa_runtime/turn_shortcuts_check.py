"""Run by tests/rasa_runtime/test_turn_shortcuts.py in its own process: the trained model's NLU parses and policy
predictions with Rasa's own code, then with rasa_runtime.fast_predict and rasa_runtime.graph_runner
installed, printed as JSON."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from typing import Any, List

import yaml
from settings import PROJECT_ROOT as ROOT



def conversations() -> List[List[str]]:
    """The benchmark conversations, each evaluation question as a conversation of one, and odd input."""
    convs = yaml.safe_load((ROOT / "bench" / "conversations.yml").read_text(encoding="utf-8"))["conversations"]
    cases = yaml.safe_load((ROOT / "tests" / "eval" / "single_turn.yml").read_text(encoding="utf-8"))["cases"]
    odd = [["", " ", "😀😀", "a" * 3000, "专利" * 500]]
    return [[turn["text"] for turn in conv["turns"]] for conv in convs] + [[case["text"]] for case in cases] + odd


async def replay(agent: Any, convs: List[List[str]]) -> List[Any]:
    """For each message: its parse, then the predicted actions (probabilities, policy) until action_listen."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    processor, domain = agent.processor, agent.domain
    out: List[Any] = []
    for number, texts in enumerate(convs):
        tracker = DialogueStateTracker.from_events(
            f"check-{number}", [ActionExecuted("action_session_start"), SessionStarted(),
                                ActionExecuted("action_listen")], domain.slots)
        for text in texts:
            parse = await agent.parse_message(text)
            out.append(parse)
            tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse))
            for _ in range(3):
                prediction = processor._predict_next_with_tracker(tracker)
                action = domain.action_names_or_texts[prediction.max_confidence_index]
                out.append([action, prediction.policy_name, list(prediction.probabilities)])
                tracker.update(ActionExecuted(action))
                if action == "action_listen":
                    break
    return out


async def main(model: str) -> None:
    """Stock run, then the shortcuts' run (DIET's first call through Rasa's code, the rest direct)."""
    from rasa.core.agent import Agent

    from rasa_runtime import fast_predict, graph_runner

    agent = Agent.load(model)
    convs = conversations()
    stock = await replay(agent, convs)
    assert fast_predict.install() and graph_runner.install()
    fast = await replay(agent, convs)
    direct = sum(1 for obj in gc.get_objects()
                 if isinstance(obj, fast_predict.RasaModel) and fast_predict.CACHE_ATTRIBUTE in obj.__dict__)
    print(json.dumps({"messages": sum(map(len, convs)), "stock": stock, "fast": fast, "models_direct": direct},
                     ensure_ascii=False, default=str))


if __name__ == "__main__":
    sys.modules.setdefault("jax", None)
    sys.modules.setdefault("jaxlib", None)
    asyncio.run(main(sys.argv[1]))
