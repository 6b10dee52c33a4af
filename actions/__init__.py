"""Custom Rasa actions: thin glue between the tracker and the `policies_kb` library.

Importing the package (as `rasa run actions` does) checks the knowledge base once, so an action
server with a broken KB file refuses to start with a message naming the file and line.
"""

from .kb_store import check_knowledge_base_at_startup

check_knowledge_base_at_startup()
