"""config.toml: one validated object for the whole bot.

pydantic checks every section; rule tables go through ``rules.load_rules`` so rule errors read
the same everywhere. Every problem in the file is reported at once, each naming its place:
``config.toml: rule "rut-spx" field "threshold": expected a number, got "0,4"``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.config.defaults import DEFAULT_RULES
from bot.config.sections import INT64_MAX, Settings
from bot.config.tokenfile import read_token_file
from bot.errors import BotError, ConfigFileError
from rules import ConfigError, Problem, Rule, load_rules, pydantic_problems


class Config:
    """The validated config: settings, rules and where the file lives (relative paths start there)."""

    def __init__(
        self, settings: Settings, rules: list[Rule], path: Path | None, unavailable: dict[str, Problem] | None = None
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.path = path
        # Rules valid in themselves that the data cannot answer (an unknown universe): `rules check` refuses
        # them, every other command runs the rest and reports these, as one rule's missing data is reported.
        self.unavailable = dict(unavailable or {})

    def rule_error(self, name: str) -> str | None:
        """Why rule ``name`` cannot run, without repeating its name (``config.toml: field "universe": …``)."""
        p = self.unavailable.get(name)
        return None if p is None else str(Problem(p.message, field=p.field, source=p.source))

    def cannot_run(self) -> list[str]:
        """One line per rule that cannot run, for `status`, /status and the admins."""
        return [f"{p}; the other rules run without it" for p in self.unavailable.values()]

    def resolve(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(os.path.expanduser(value))
        if p.is_absolute() or self.path is None:
            return p
        return self.path.parent / p

    @property
    def store_path(self) -> Path:
        return self.resolve(self.settings.store.path)

    @property
    def backup_folder(self) -> Path | None:
        """``[store] backups``, relative to this file; None when the bot takes no backups of its own."""
        folder = self.settings.store.backups
        return None if folder is None else self.resolve(folder)

    def token(self) -> str | None:
        """The bot token: from the file named in config, else the environment variable.

        Surrounding whitespace (the newline of a file or of ``$(cat …)``) is dropped; anything else that
        does not look like a token is named here, not reported later as a network problem.
        """
        tg = self.settings.telegram
        where = self.token_source()
        if tg.token_file:
            raw = read_token_file(self.resolve(tg.token_file), where)
        else:
            raw = os.environ.get(tg.token_env) or ""
        token = raw.strip()
        if token and not TOKEN_SHAPE.fullmatch(token):
            odd = sorted({repr(c) for c in token if not (c.isalnum() or c in ":_-")})
            what = f" (it holds {', '.join(odd)})" if odd else ""
            raise ConfigFileError(
                f"the Telegram token in {where} is malformed{what}: a token is the bot's id, a colon and its "
                "secret, like 123456789:AAH…, as @BotFather gave it"
            )
        return token or None

    def token_source(self) -> str:
        """Where the token is read from, in the words of messages about it."""
        tg = self.settings.telegram
        return f"telegram.token_file {tg.token_file}" if tg.token_file else f"the environment variable {tg.token_env}"

    def is_allowed(self, chat_id: int) -> bool:
        tg = self.settings.telegram
        return chat_id in tg.allowed_chats or chat_id in tg.admin_chats

    def is_admin(self, chat_id: int) -> bool:
        return chat_id in self.settings.telegram.admin_chats

    def is_editor(self, chat_id: int) -> bool:
        """May this chat change config.toml's rules from chat? Admins may too."""
        tg = self.settings.telegram
        return chat_id in tg.editor_chats or chat_id in tg.admin_chats


def no_such_rule(name: str, known: Sequence[str]) -> BotError:
    """The one wording of an unknown rule name, with the names that would have worked."""
    return BotError(f"no rule named {name!r}; known rules: {', '.join(known) or 'none'}")


def find_rule(config: Config, name: str) -> Rule:
    for rule in config.rules:
        if rule.name == name:
            return rule
    raise no_such_rule(name, [r.name for r in config.rules])


TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")


def parse_config(data: dict[str, Any], source: str = "config.toml", path: Path | None = None) -> Config:
    """Validate parsed TOML; raises ConfigFileError listing every problem."""
    problems: list[Problem] = []
    raw_rules = data.get("rules")
    settings_data = {k: v for k, v in data.items() if k != "rules"}
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(settings_data)
    except ValidationError as err:
        for p in pydantic_problems(err, None):
            problems.append(Problem(p.message, field=p.field, source=source))
    rules: list[Rule] = []
    if raw_rules is None:
        raw_rules = DEFAULT_RULES
    try:
        rules = load_rules(raw_rules, source=source)
    except ConfigError as err:
        problems.extend(err.problems)
    # inf/nan: our sentence replaces pydantic's ("expected a value ≤ 30, got nan"); a huge integer
    # keeps the bound pydantic names when it has one.
    numbers = number_problems(data, source)
    non_finite = {(p.rule, p.field) for p in numbers if p.message.startswith("expected a finite")}
    problems = [p for p in problems if (p.rule, p.field) not in non_finite]
    placed = {(p.rule, p.field) for p in problems}
    problems.extend(p for p in numbers if (p.rule, p.field) not in placed)
    if settings is not None:
        tg = settings.telegram
        allowed = {*tg.allowed_chats, *tg.admin_chats}
        stray_editors = [c for c in tg.editor_chats if c not in allowed]
        if stray_editors and not any((p.field or "").startswith("telegram.editor_chats") for p in problems):
            message = f"chat ids {stray_editors} are not in [telegram] allowed_chats or admin_chats"
            problems.append(Problem(message, field="telegram.editor_chats", source=source))
        for rule in rules:
            if any(p.rule == rule.name and (p.field or "").startswith("chats") for p in problems):
                continue  # already reported (e.g. a number too large)
            stray = [c for c in rule.spec.chats or [] if c not in allowed]
            if stray:
                problems.append(
                    Problem(
                        f"chat ids {stray} are not in [telegram] allowed_chats or admin_chats",
                        rule=rule.name,
                        field="chats",
                        source=source,
                    )
                )
    missing = universe_problems(rules, settings, source) if settings is not None else []
    if problems or settings is None:
        raise ConfigFileError("\n".join(str(p) for p in [*problems, *missing]))
    return Config(settings, rules, path, {p.rule: p for p in missing if p.rule is not None})


def universe_problems(rules: list[Rule], settings: Settings, source: str) -> list[Problem]:
    """A universe no [universes.NAME] section defines has no member list: say so now, not at the next check."""
    known = sorted({*settings.universes, *Settings().universes})  # sp500 is built in
    out = []
    for rule in rules:
        for name in sorted(rule.universes - set(known)):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            out.append(
                Problem(
                    f'unknown universe "{name}"; {hint}known: {", ".join(known)} '
                    f"(a [universes.{name}] section defines one)",
                    rule=rule.name,
                    field="universe",
                    source=source,
                )
            )
    return out


def number_problems(data: dict[str, Any], source: str) -> list[Problem]:
    """Values no setting can mean: TOML's ``inf``/``nan`` (also what ``1e400`` becomes) and integers
    beyond 64 bits. Left in, a threshold of inf never fires and a chat id SQLite cannot store breaks
    every check that queues an alert for it; so they are refused here, wherever they appear.
    """
    found: list[Problem] = []

    def walk(value: Any, rule: str | None, field: str) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, float) and not math.isfinite(value):
            found.append(Problem(f"expected a finite number, got {value!r}", rule=rule, field=field, source=source))
        elif isinstance(value, int) and abs(value) > INT64_MAX:
            message = f"number too large ({len(str(abs(value)))} digits; at most {INT64_MAX})"
            found.append(Problem(message, rule=rule, field=field, source=source))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, rule, f"{field}.{k}" if field else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, rule, f"{field}.{i}" if field else str(i))

    for key, value in data.items():
        if key == "rules" and isinstance(value, list):
            for i, raw in enumerate(value):
                name = raw.get("name") if isinstance(raw, dict) else None
                walk(raw, name if isinstance(name, str) and name else f"#{i + 1}", "")
        else:
            walk(value, None, str(key))
    return found


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. A missing default file means built-in defaults."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # Windows editors start UTF-8 files with a BOM
    except FileNotFoundError:
        raise ConfigFileError(f"{p}: no such config file (copy config.toml from the repository)") from None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"{p}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigFileError(f"{p}: cannot read config: {exc}") from None
    return config_from_text(text, p)


def config_from_text(text: str, path: Path) -> Config:
    """The config ``text`` would be if it were the file at ``path`` (what ``load_config`` reads, and
    what an edit is checked with before it is written)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, source=path.name, path=path.resolve())
