"""Fakes, factories and helpers shared by the tests. Nothing here is a test; test files import from here,
never from one another."""
