"""KB → the jieba dictionary and the Rasa NLU lookup tables and synonyms: a Rasa-side build step.

``python -m nlu_resources`` (or ``python -m policies_kb nlu-resources``, which ``make nlu-resources`` runs)
writes nlu_dictionary/kb_words.txt and data/nlu/lookups/kb_lookups.yml. policies_kb itself knows no
Rasa file format.
"""

from .exports import jieba_dictionary, nlu_lookups, topic_words, update_message, write_nlu_resources

__all__ = ["jieba_dictionary", "nlu_lookups", "topic_words", "update_message", "write_nlu_resources"]
