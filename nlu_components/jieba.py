"""A JiebaTokenizer that normalises the text first and drops the whitespace tokens Rasa 3.6's tokenizer keeps.

Normalisation (``policies_kb.normalise``: traditional → simplified script, full-width letters, proposal-style
titles, pinyin typos of KB terms) keeps the text's length, so token and entity offsets hold in the user's
original text; the tracker keeps the original text, and the actions normalise it the same way.
"""

from __future__ import annotations

import glob
import logging
from typing import List, Optional, Set, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from policies_kb.normalise import TextNormaliser, load_readings
from policies_kb.paths import READINGS_FILE

logger = logging.getLogger(__name__)


def user_dictionary_words(path: Text) -> Set[str]:
    """The words of the jieba user dictionaries in a folder (``word freq`` per line)."""
    words: Set[str] = set()
    for name in glob.glob(f"{path}/*"):
        with open(name, encoding="utf-8") as handle:
            words.update(line.split()[0] for line in handle if line.strip())
    return words


def dictionary_words(text: str) -> List[str]:
    """The text cut by the global jieba (with the user dictionaries) into dictionary words only."""
    import jieba

    return list(jieba.cut(text, HMM=False))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class CleanJiebaTokenizer(JiebaTokenizer):
    """Jieba tokenisation of the normalised text with the KB dictionary, without whitespace-only tokens."""

    _vocabulary: Set[str] = set()
    _normaliser: Optional[TextNormaliser] = None

    @staticmethod
    def _load_custom_dictionary(path: Text) -> None:
        """Load the user dictionaries into jieba and remember their words for the normaliser."""
        JiebaTokenizer._load_custom_dictionary(path)
        CleanJiebaTokenizer._vocabulary |= user_dictionary_words(path)
        CleanJiebaTokenizer._normaliser = None

    def normalise(self, text: str) -> str:
        """The text as the KB reads it, as long as the original."""
        if CleanJiebaTokenizer._normaliser is None:
            CleanJiebaTokenizer._normaliser = TextNormaliser(self._vocabulary, load_readings(READINGS_FILE), dictionary_words)
        return CleanJiebaTokenizer._normaliser(text)

    def _normalise_message(self, message: Message) -> None:
        """Replace the message text by its normalised form (same length)."""
        text = message.get(TEXT)
        if isinstance(text, str) and text:
            message.set(TEXT, self.normalise(text))

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalise, then tokenise."""
        for message in messages:
            self._normalise_message(message)
        return super().process(messages)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise the training examples the same way, then tokenise."""
        for example in training_data.training_examples:
            self._normalise_message(example)
        return super().process_training_data(training_data)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenise as JiebaTokenizer does, then drop whitespace tokens."""
        tokens = [token for token in super().tokenize(message, attribute) if token.text.strip()]
        if not tokens:
            text = message.get(attribute) or ""
            tokens = [Token(text.strip() or "_", 0)]
        return tokens
