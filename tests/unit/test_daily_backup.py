"""The running bot backs the store up after each daily job when [store] backups is set; a failed backup never
fails the job."""

from __future__ import annotations

from pathlib import Path

from bot.errors import SourceUnavailable
from bot.store.backup import backups_of
from bot.store.db import Store
from tests.support.scheduler_helpers import friday_scheduler as scheduler


def test_the_daily_job_backs_the_store_up_after_its_check(tmp_path: Path) -> None:
    sched, store, _ = scheduler(tmp_path, store_keys='backups = "backups"\nkeep = 2\n')
    lines = sched.tick()
    assert "1 new alerts" in lines[0]
    [taken] = backups_of(store.path, tmp_path / "backups")
    assert taken.name == "s-20240726T213100Z.sqlite"  # the scheduler's clock names it
    copy = Store(taken)
    assert [a["rule"] for a in copy.recent_alerts()] == ["r1"]  # the day's alert is in it
    assert copy.get_meta("scheduler.daily.done") == "2024-07-26T21:30:00+00:00"  # and the job marked done
    assert copy.last_run("daily") is not None
    copy.close()
    assert sched.messages == []
    store.close()


def test_no_backup_without_the_setting_nor_after_a_failed_job(tmp_path: Path) -> None:
    sched, store, _ = scheduler(tmp_path)
    sched.tick()
    assert list(tmp_path.glob("**/s-*.sqlite")) == []
    store.close()
    failing, store, _ = scheduler(
        tmp_path / "f", error=SourceUnavailable("yahoo", "HTTP 503"), store_keys='backups = "backups"\n'
    )
    assert "failed" in failing.tick()[0]
    assert backups_of(store.path, tmp_path / "f" / "backups") == []
    store.close()


def test_a_failed_backup_tells_the_admins_and_the_job_still_counts(tmp_path: Path) -> None:
    (tmp_path / "backups").write_text("a file where the folder should be")
    sched, store, _ = scheduler(tmp_path, store_keys='backups = "backups"\n')
    assert "1 new alerts" in sched.tick()[0]
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"
    folder = tmp_path / "backups"
    assert sched.messages == [
        f"The daily backup of the store failed: the backup folder {folder} is a file, not a folder: give a folder"
    ]
    assert sched.tick() == []  # done: not run again for the backup's sake
    store.close()


def test_backups_follow_a_reload_without_a_restart(tmp_path: Path) -> None:
    sched, store, _ = scheduler(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text(path.read_text().replace('path = "s.sqlite"\n', 'path = "s.sqlite"\nbackups = "backups"\n'))
    assert sched.holder.poll() == "config.toml reloaded: 1 rules; rules unchanged"  # no "restart to apply"
    assert "1 new alerts" in sched.tick()[0]
    assert len(backups_of(store.path, tmp_path / "backups")) == 1
    store.close()
