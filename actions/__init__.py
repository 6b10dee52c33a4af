"""Custom Rasa actions: thin glue between the tracker and the `policies_kb` library."""
