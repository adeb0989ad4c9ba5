"""``rotation-bot backup`` and ``restore``: a consistent copy of the store, taken while the bot runs,
and putting one back while it does not."""

from __future__ import annotations

from pathlib import Path

import click

import bot.store
from bot.cli.context import Context, pass_ctx
from bot.errors import BotError


@click.command()
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the backup (default: [store] backups in the config).",
)
@pass_ctx
def backup(obj: Context, folder: Path | None) -> None:
    """Back the store up: a consistent copy (also while the bot runs), checked, the last [store] keep kept.

    Example: rotation-bot backup --to /mnt/usb/rotation-bot
    """
    config = obj.config
    folder = folder or config.backup_folder
    if folder is None:
        raise BotError("no folder for the backup: give --to FOLDER, or set [store] backups in the config")
    taken = bot.store.take_backup(config.store_path, folder, config.settings.store.keep)
    click.echo(
        f"Backed up {config.store_path} to {taken.path} ({taken.size / 1e6:.1f} MB, integrity ok, "
        f"{taken.seconds:.1f} s)."
    )
    kept = len(bot.store.backups_of(config.store_path, folder))
    gone = f"; removed {', '.join(p.name for p in taken.removed)}" if taken.removed else ""
    click.echo(f"{kept} backups in {folder} (keep = {config.settings.store.keep}){gone}.")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def restore(obj: Context, file: Path) -> None:
    """Put a backup back in place of the store; refused while a bot runs on the store.

    The store as it was is kept beside it as NAME.before-restore. Alerts queued but not yet sent
    when the backup was taken are sent when the bot starts.

    Example: rotation-bot restore backups/rotation-bot-20240717T213000Z.sqlite
    """
    store = obj.config.store_path
    done = bot.store.restore_backup(store, file)
    prices = f"prices to {done.last_price}" if done.last_price else "no prices"
    click.echo(f"Restored {store} from {file}: {done.alerts} alerts, {prices}, {done.pending} sends pending.")
    if done.kept is not None:
        click.echo(f"The store as it was is kept as {done.kept}.")
