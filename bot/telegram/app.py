"""The Telegram adapter: the PTB Application around the transport-free commands of bot/chat.

Updates of different chats are handled concurrently, each chat's in order (bot/telegram/chats.py).

Order of handling, as in PTB's examples: a ``TypeHandler`` in group -1 lets only allowed chats
through (everyone else gets one polite refusal per chat, logged without the message text), then
one ``CommandHandler`` per row of the command table (admin rows filtered to ``admin_chats``),
then a fallback that answers unknown commands. Errors are logged with their traceback and
reported, escaped and without the token, to the admin chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.answers import CAPTION_LIMIT, echo, fit_html
from bot.chat import (
    COMMANDS,
    DELIVERY_SECONDS,
    Command,
    CommandContext,
    Reply,
    Service,
    dispatch,
    press,
    run_command,
)
from bot.config import Config
from bot.errors import BotError
from bot.store import chats
from bot.telegram.chats import ChatOrder
from bot.telegram.delivery import deliver_pending
from bot.telegram.floodcontrol import FLOOD_RETRIES, REAL_CLOCK, Clock, FloodControl
from bot.telegram.keyboards import keyboard
from bot.telegram.redact import redact_token_in_logs
from bot.telegram.sendfaults import INLINE_RETRY_AFTER_MAX, retry_after_seconds
from bot.telegram.watchdog import TOKEN_REFUSED, PollingRequest, Watchdog, stop_on_refusal, watchdog_seconds

log = logging.getLogger(__name__)

REFUSAL = (
    "Sorry, this bot is private. Your chat id is <code>{chat_id}</code>: "
    "ask its owner to add it to <code>allowed_chats</code>."
)
Ctx = CallbackContext[Any, Any, Any, Any]
App = Application[Any, Any, Any, Any, Any, Any]


# --- logging hygiene (the token's redaction: bot/telegram/redact.py) ------------------------------


def warn_if_nobody_allowed(config: Config) -> None:
    tg = config.settings.telegram
    if not tg.allowed_chats and not tg.admin_chats:
        log.warning(
            "no [telegram] allowed_chats or admin_chats in the config: every chat will be refused. "
            "Send the bot a message; the refusal shows your chat id, which goes into allowed_chats."
        )


# --- replies -------------------------------------------------------------------------------------


async def _patiently(send: Callable[[], Awaitable[object]]) -> None:
    """Send again after a 429, at most ``FLOOD_RETRIES`` times; the rate limiter waits out the chat's wait first.

    A wait longer than ``INLINE_RETRY_AFTER_MAX`` is not waited for: the ``RetryAfter`` goes to the error
    handler (one warning line), and only this chat's later updates waited behind it.
    """
    for attempt in range(FLOOD_RETRIES + 1):
        try:
            await send()
            return
        except RetryAfter as exc:
            if attempt == FLOOD_RETRIES or retry_after_seconds(exc) > INLINE_RETRY_AFTER_MAX:
                raise


async def send_reply(bot: Any, chat_id: int, reply: Reply) -> None:
    """Send an answer, fitted to Telegram's limits as it counts them (``fit_html``: never cut in a tag or entity)."""
    markup = keyboard(reply.buttons)
    html = ParseMode.HTML
    if reply.photo is not None and fit_html(reply.text, CAPTION_LIMIT) != reply.text:
        # An answer longer than a caption (/rotation): the picture with its title, then the whole text.
        title = fit_html(reply.text.split("\n", 1)[0], CAPTION_LIMIT)
        await _patiently(lambda: bot.send_photo(chat_id, photo=reply.photo, caption=title, parse_mode=html))
        text = fit_html(reply.text)
        await _patiently(lambda: bot.send_message(chat_id, text, parse_mode=html, reply_markup=markup))
    elif reply.photo is not None:
        photo = reply.photo
        await _patiently(
            lambda: bot.send_photo(chat_id, photo=photo, caption=reply.text, parse_mode=html, reply_markup=markup)
        )
    else:
        text = fit_html(reply.text)
        await _patiently(lambda: bot.send_message(chat_id, text, parse_mode=html, reply_markup=markup))


def command_context(service: Service, chat_id: int) -> CommandContext:
    return CommandContext(service, chat_id, admin=service.config.is_admin(chat_id))


# --- handlers ------------------------------------------------------------------------------------


def make_guard(service: Service) -> Any:
    refused: set[int] = set()

    async def guard(update: object, context: Ctx) -> None:
        """Only allowed chats get past group -1; the rest get one refusal and no data."""
        if not isinstance(update, Update):
            raise ApplicationHandlerStop
        chat = update.effective_chat
        if chat is not None and service.admits(chat.id):  # allowed, or a group upgraded from an allowed one
            return
        user = update.effective_user
        log.warning(
            "refused update %s from chat %s (user %s)",
            update.update_id,
            chat.id if chat else None,
            user.id if user else None,
        )
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer("This bot is private.")
        if chat is not None and chat.id not in refused and update.effective_message is not None:
            refused.add(chat.id)
            await context.bot.send_message(chat.id, REFUSAL.format(chat_id=chat.id), parse_mode=ParseMode.HTML)
        raise ApplicationHandlerStop

    return guard


def make_handler(service: Service, command: Command) -> Any:
    async def handle(update: Update, context: Ctx) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        reply = await run_command(command_context(service, chat.id), command, list(context.args or []))
        await send_reply(context.bot, chat.id, reply)

    handle.__name__ = f"cmd_{command.name}"
    return handle


def make_button_handler(service: Service) -> Any:
    async def on_press(update: Update, context: Ctx) -> None:
        """A button: answer the press at once (the client stops spinning), then post what it asked for."""
        query, chat = update.callback_query, update.effective_chat
        if query is None:
            return
        try:
            await query.answer()  # only stops the client's spinner: a press too old to answer still runs
        except TelegramError as exc:
            log.info("could not answer a button press: %s", exc)
        if chat is None or not query.data:
            return
        reply = await press(command_context(service, chat.id), query.data)
        await send_reply(context.bot, chat.id, reply)

    return on_press


def make_fallback(service: Service) -> Any:
    async def fallback(update: Update, context: Ctx) -> None:
        """Unknown commands, admin commands from non-admins and plain text get a pointer to /help."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        text = (message.text or "").strip()
        head = text.split(maxsplit=1)[0] if text else ""
        if head.startswith("/") and "@" in head:
            if head.split("@", 1)[1].lower() != (context.bot.username or "").lower():
                return  # "/ratio@other_bot" in a group is not for us
        elif not head.startswith("/") and chat.type != ChatType.PRIVATE:
            return  # group chatter: stay quiet
        reply = await dispatch(command_context(service, chat.id), text)
        await send_reply(context.bot, chat.id, reply)

    return fallback


def _telegram_side(err: object) -> str | None:
    """Why a failure is Telegram's side and no fault of the bot (so one warning line, no report), else None.

    A ``BadRequest`` is a message Telegram will never take, and a ``Conflict`` a second bot on the token: those
    are reported. A ``Forbidden`` reply means the chat blocked or removed the bot: nobody is there to answer.
    """
    if isinstance(err, Forbidden):
        return "the chat blocked or removed the bot"
    if isinstance(err, NetworkError | RetryAfter) and not isinstance(err, BadRequest):
        return "Telegram did not take it"
    if type(err) is TelegramError and isinstance(err.__cause__, ValueError):  # an answer that is no JSON
        return "Telegram's answer was not JSON (a proxy's page?)"
    return None


def make_error_handler(service: Service) -> Any:
    async def on_error(update: object, context: Ctx) -> None:
        """Log with the traceback; tell the admins in one escaped line (the token is never in it).

        A reply Telegram did not take (a dropped connection, a timeout, a 5xx, flood control, a page that is no
        JSON) or a chat that blocked the bot is no fault of the bot (``_telegram_side``): one warning line, no
        report, and the chat can simply ask again. (Alerts never come here: delivery retries them.)
        """
        err = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        if (why := _telegram_side(err)) is not None:
            where = f"chat {chat.id}" if chat else "a chat"
            if update is None:  # polling: no chat is waiting, and PTB's updater tries again
                log.warning("could not fetch updates: %s (%s); trying again", why, err)
            elif isinstance(err, Forbidden):
                log.warning("could not answer %s: %s (%s)", where, why, err)
            else:
                log.warning("could not answer %s: %s (%s); the chat can ask again", where, why, err)
            return
        log.error("error while handling an update", exc_info=err)
        token = context.bot.token
        text = f"{type(err).__name__}: {err}".replace(token, "<token>")
        where = f" (chat {chat.id})" if chat else ""
        report = f"⚠️ <b>Error</b>{where}: <code>{echo(text[:3000])}</code>"
        for admin in service.config.settings.telegram.admin_chats:
            try:
                await context.bot.send_message(admin, report, parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                log.warning("could not report the error to admin chat %s: %s", admin, exc)
        admins = service.config.settings.telegram.admin_chats
        if chat is not None and service.config.is_allowed(chat.id) and chat.id not in admins:
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(chat.id, "Sorry, something went wrong; the admins were told.")

    return on_error


def install(app: App, service: Service) -> None:
    """Register every handler on ``app``, from the one command table."""
    app.add_handler(TypeHandler(Update, make_guard(service)), group=-1)
    admins = service.config.settings.telegram.admin_chats
    for command in COMMANDS:
        # New messages only: editing an old "/consensus …" or "/subscribe" must not run it again.
        only_new = filters.UpdateType.MESSAGE
        chat_filter = filters.Chat(chat_id=admins) & only_new if command.admin else only_new
        app.add_handler(CommandHandler(command.name, make_handler(service, command), filters=chat_filter))
    app.add_handler(CallbackQueryHandler(make_button_handler(service)))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, make_fallback(service)))
    app.add_error_handler(make_error_handler(service))


async def set_commands(bot: Any, config: Config) -> None:
    """The command menu: public commands for everyone, all commands in each admin chat."""
    public = [BotCommand(c.name, c.help) for c in COMMANDS if c.menu and not c.admin]
    everything = [BotCommand(c.name, c.help) for c in COMMANDS if c.menu]
    await bot.set_my_commands(public)
    for admin in config.settings.telegram.admin_chats:
        try:
            await bot.set_my_commands(everything, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:  # an admin who never opened the bot: the chat does not exist yet
            log.warning("could not set the admin command menu for chat %s: %s", admin, exc)


# --- the application -----------------------------------------------------------------------------


def build_application(
    service: Service,
    token: str,
    *,
    request_timeout: float = 10.0,
    watchdog: Watchdog | None = None,
    clock: Clock = REAL_CLOCK,
) -> App:
    """The PTB Application for ``service``: handlers, rate limiter, command menu, delivery job and systemd's
    watchdog (bot/telegram/watchdog.py; nothing is sent outside systemd).

    The token goes to PTB only; logs get it redacted (``redact_token_in_logs``). ``clock`` is what flood
    waits and delivery's pauses are measured on (tests step it).
    """
    tg = service.config.settings.telegram
    limiter = FloodControl(tg.messages_per_second, clock)
    watchdog = watchdog or Watchdog()

    async def post_init(app: App) -> None:
        await set_commands(app.bot, service.config)
        service.start_periodic()

    async def post_stop(app: App) -> None:
        watchdog.stopping()
        await service.stop_periodic()

    app: App = (
        Application.builder()
        .token(token)
        .base_url(tg.api_base_url)
        .rate_limiter(limiter)
        .connect_timeout(request_timeout)
        .read_timeout(request_timeout)
        .write_timeout(request_timeout)
        .get_updates_request(
            PollingRequest(
                watchdog, lambda: stop_on_refusal(app), connection_pool_size=1, read_timeout=request_timeout + 20
            )
        )
        .concurrent_updates(ChatOrder(lambda chat: service.config.is_allowed(chat)))  # one chat never holds others
        .post_init(post_init)
        .post_stop(post_stop)
        .build()
    )
    install(app, service)

    async def deliver() -> None:
        tg = service.config.settings.telegram  # the config in force, after any /reload
        dropped = chats.drop_chats_not_allowed(service.store, {*tg.allowed_chats, *tg.admin_chats})
        if dropped:
            log.warning("unsubscribed chats no longer allowed by the config: %s", dropped)
        await deliver_pending(
            app.bot, service.store, admins=tg.admin_chats, read_timeout=request_timeout, sleep=clock.sleep
        )

    # Each pass in a task of its own: a chat waiting out a 429 or a hung send must not hold the next pass.
    service.add_periodic("delivery", DELIVERY_SECONDS, deliver, run_first=True, overlap=True)
    if (every := watchdog_seconds()) is not None:
        service.add_periodic("watchdog", every, watchdog.feed, run_first=True)
    return app


def run_telegram(service: Service, token: str) -> None:
    """Poll Telegram until interrupted (Ctrl-C / SIGTERM)."""
    redact_token_in_logs(token)
    warn_if_nobody_allowed(service.config)
    app = build_application(service, token)
    base_url = service.config.settings.telegram.api_base_url
    try:
        # One getMe of our own first: PTB would log a page of traceback before the error reached us.
        asyncio.run(_preflight(token, base_url))
        app.run_polling(allowed_updates=["message", "callback_query", "my_chat_member"])
        if app.bot_data.get(TOKEN_REFUSED):
            raise InvalidToken("refused while polling")
    except InvalidToken:
        raise BotError("Telegram rejected the bot token: check the token from @BotFather") from None
    except NetworkError as exc:  # unreachable at start (getMe): say so in one line; a supervisor restarts us
        why = str(exc).replace(token, "<token>")
        raise BotError(
            f"cannot reach Telegram at {base_url}: {why}; "
            "check the network and [telegram] api_base_url, then start again"
        ) from None
    except TelegramError as exc:  # an answer that is not the Bot API's (a proxy's or captive portal's page)
        why = str(exc).replace(token, "<token>")
        raise BotError(
            f"{base_url} does not answer as the Telegram Bot API ({why}): check [telegram] api_base_url"
        ) from None


async def _preflight(token: str, base_url: str) -> None:
    # PTB logs an answer that is not JSON with its traceback before raising: the caller's one line says it.
    quiet = logging.getLogger("telegram.request")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        async with Bot(token, base_url=base_url):  # initialize() calls getMe
            pass
    except (TypeError, KeyError, AttributeError, ValueError):
        # JSON, but no bot account in it ({"ok":true,"result":{"foo":1}}, [1,2,3]): PTB reads it unchecked
        raise TelegramError("its answer to getMe is not a bot account") from None
    finally:
        quiet.setLevel(level)
