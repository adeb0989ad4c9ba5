"""Data coming in: the fetch jobs, universe member lists, and the sources (Yahoo, FRED, a CSV folder)."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
