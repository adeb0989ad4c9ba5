"""Tests across the edges: the real offline data in ../shared/data (skipped when absent), subprocesses,
the crash harness, the fake Telegram server, and the CLI end to end."""
