"""The work that runs on a schedule: the daily check (evaluate, record, hand new alerts to a sink),
the sink that notifies subscribers, and the scheduler."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
