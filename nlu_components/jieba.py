"""A JiebaTokenizer that drops the whitespace tokens Rasa 3.6's tokenizer keeps."""

from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class CleanJiebaTokenizer(JiebaTokenizer):
    """Jieba tokenisation with the KB dictionary, without whitespace-only tokens."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenise as JiebaTokenizer does, then drop whitespace tokens."""
        tokens = [token for token in super().tokenize(message, attribute) if token.text.strip()]
        if not tokens:
            text = message.get(attribute) or ""
            tokens = [Token(text.strip() or "_", 0)]
        return tokens
