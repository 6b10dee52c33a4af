"""The one launcher of the assistant's processes: the local stack (`make run`, tests, bench, eval) and the production cluster harness (`make run-prod`, tests/prod)."""
