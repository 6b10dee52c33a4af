"""Rasa's tracker and lock stores as the project runs them (named in endpoints.yml and endpoints.prod.yml)."""
