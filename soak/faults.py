"""The seeded fault schedule: which faults strike on which simulated day, and when within it.

Everything random in a soak comes from one ``random.Random(seed)`` drawn here, before the run starts, so a
seed names one schedule exactly and a failing run replays with ``SOAK_SEED``. (The bot's own timing still
varies from run to run, as real timing does; the schedule and the data do not.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# kind -> weight among the faults drawn each day
WEIGHTS = {
    "telegram_429": 3,
    "telegram_500": 3,
    "telegram_hang": 2,
    "telegram_drop": 2,
    "telegram_late": 2,
    "yahoo_down": 2,
    "yahoo_partial": 2,
    "yahoo_bad_row": 2,
    "store_readonly": 1,
    "store_full": 1,
    "config_race": 2,
    "flood": 1,
}
KILL_PER_DAY = 0.3  # chance of a kill -9 of the bot on a day
PER_DAY = (2, 5)  # faults drawn per day, inclusive
BAD_VALUES = ("nan", "0", "-1", "inf")


@dataclass(frozen=True)
class Fault:
    kind: str
    at: float  # seconds of real time into the day's run
    params: dict[str, object] = field(default_factory=dict)


def schedule(seed: int, days: int, symbols: list[str], indices: list[str]) -> list[list[Fault]]:
    """The faults of each day, in order of ``at``; the group's upgrade to a supergroup falls on one day."""
    rng = random.Random(seed)
    kinds = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in kinds]
    plan: list[list[Fault]] = []
    # No kill -9 in the three days up to day 10 and up to the last day: the memory line compares the bot's RSS
    # after those days, and a process restarted hours before has not yet drawn the charts a long-lived one has.
    quiet = {7, 8, 9, days - 3, days - 2, days - 1} if days >= 20 else set()
    for number in range(days):
        day: list[Fault] = []
        for kind in rng.choices(kinds, weights, k=rng.randint(*PER_DAY)):
            if kind == "config_race" and any(f.kind == kind for f in day):
                continue  # one race a day: two would only race each other
            day.append(Fault(kind, round(rng.uniform(0.0, 2.5), 2), _params(rng, kind, symbols, indices)))
        if rng.random() < KILL_PER_DAY and number not in quiet:
            day.append(Fault("kill9", round(rng.uniform(0.0, 4.0), 2)))
        plan.append(sorted(day, key=lambda f: f.at))
    migrate_day = rng.randrange(max(1, days // 2))
    plan[migrate_day].append(Fault("migrate", round(rng.uniform(0.0, 3.0), 2)))
    plan[migrate_day].sort(key=lambda f: f.at)
    return plan


def _params(rng: random.Random, kind: str, symbols: list[str], indices: list[str]) -> dict[str, object]:
    if kind.startswith("telegram_"):
        method = rng.choice(["sendMessage", "sendMessage", "sendPhoto"])
        # A link that drops several answers in a row: the ambiguity bound (two unanswered sends, then unknown) is
        # only exercised when one message meets more than one.
        times = rng.choice([1, 1, 2, 4, 6]) if kind == "telegram_drop" else 1
        return {
            "method": method,
            "delay": round(rng.uniform(2.3, 4.0), 2),
            "retry_after": rng.choice([1, 2]),
            "times": times,
        }
    if kind.startswith("yahoo_"):
        pool = indices if rng.random() < 0.5 else symbols
        return {
            "symbols": rng.sample(pool, k=min(len(pool), rng.randint(1, 3))),
            "minutes": rng.choice([20, 40, 90]),
            "value": rng.choice(BAD_VALUES),
        }
    if kind.startswith("store_"):
        return {"seconds": round(rng.uniform(0.5, 4.0), 2)}
    if kind == "config_race":
        return {
            "order": rng.choice(["hand_first", "hand_between", "hand_after"]),
            "gap": round(rng.uniform(0.0, 0.5), 2),
        }
    if kind == "flood":
        return {"commands": rng.randint(20, 40)}
    return {}
