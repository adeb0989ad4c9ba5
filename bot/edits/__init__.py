"""Editing config.toml's rules, one flow for the chat and the command line: preview with its what-if, apply
(write the file, record the edit), undo, and settle the edits a crash left half recorded."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
