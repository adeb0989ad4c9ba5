"""The command line, the top floor: ``rotation-bot``, built with click."""

from bot.cli.main import main

__all__ = ["main"]
