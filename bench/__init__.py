"""Latency, throughput and memory benchmark of the assistant (`make bench`, see docs/bench.md)."""
