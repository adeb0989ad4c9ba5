"""A soak under random faults: the real bot process lives through simulated NYSE trading days.

The driver (soak/driver.py) runs a fake Bot API, a simulated clock and a seeded schedule of faults
(soak/faults.py) around the bot process (soak/runner.py: ``rotation-bot run`` itself, with the clock and
yfinance swapped), kills and restarts it, and at the end asserts the delivery promise (soak/checks.py).
Probing one fault at a time finds the breaks we thought of; a long run of many faults mixed finds the ones
between them, and the seed replays any failure exactly (``SOAK_SEED=… SOAK_DAYS=… python -m soak``).
"""
