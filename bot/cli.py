"""The `thidua` command line.

The process environment is read here, once, into a `bot.settings.Environment`, and
handed to the subcommand; a bad value stops start-up naming the variable, like a
mistake in config.yaml does.

Exit codes: 0 done; 2 configuration, environment or a token the messenger refuses;
3 the messenger cannot be reached (after retrying); 1 anything else. Each failure is
one line on stderr; an unexpected one is logged with its traceback, redacted like
every log record (bot.redact), so no secret reaches the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bot.channels.base import ChannelAuthError, ChannelUnreachable
from bot.logs import TEXT_FORMAT, use_format
from bot.redact import install, protect
from bot.settings import Environment, InvalidEnvironment
from reporting.config import ConfigError, Settings
from reporting.config_file import load_settings

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3
FILE_COMMANDS = frozenset({"export", "document", "review", "members", "member"})
log = logging.getLogger("thidua")


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m` → timedelta (for `--expires`)."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*([dhm])\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 7d, 12h, 30m)")
    n, unit = int(m.group(1)), m.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thidua", description="Thi Đua Bot")
    p.add_argument("--config", help="path to config.yaml (default: $THIDUA_CONFIG or "
                                     "./config.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the bot (long polling); upgrades the schema first")
    run.add_argument("--webhook", action="store_true", help="run behind a webhook")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "backup", "restore"],
                    help="upgrade: bring the schema up to date; backup: copy the database "
                         "(SQLite: online; PostgreSQL: pg_dump -Fc); restore FILE: put a "
                         "backup back (stop the bot first), then upgrade")
    db.add_argument("file", nargs="?", type=Path, help="restore: the backup to put back")
    db.add_argument("--out", type=Path, default=None,
                    help="backup: output file (default: ./thidua-backup-DATE-TIME.db or .dump)")
    db.add_argument("--yes", action="store_true",
                    help="restore: do not ask for confirmation (scripts, containers)")
    inv = sub.add_parser("invite", help="create a one-time registration code")
    inv.add_argument("--group", required=True, help="group code, e.g. to-1")
    inv.add_argument("--role", choices=["leader", "council", "admin"], default="leader")
    inv.add_argument("--expires", type=parse_duration, default=None,
                     help="validity, e.g. 7d (default: bot.invite_ttl_days)")
    inv.add_argument("--replaces", type=int, default=None, metavar="ID",
                     help="a handover: registering with the code deactivates this leader "
                          "of the group (the id `thidua members` shows)")
    mem = sub.add_parser("members", help="list members with last activity and reach; "
                                         "deactivate, reactivate or move one")
    mem.add_argument("--group", help="only this group's members, e.g. to-3")
    change = mem.add_mutually_exclusive_group()
    change.add_argument("--deactivate", type=int, metavar="ID",
                        help="the member can no longer act; their history stays")
    change.add_argument("--reactivate", type=int, metavar="ID")
    change.add_argument("--move", type=int, metavar="ID",
                        help="a leader reports for another group from now on (with --to)")
    mem.add_argument("--to", help="the group a moved leader goes to, e.g. to-3")
    mem.add_argument("--reason", help="why a member is deactivated (kept on the roster)")
    demo = sub.add_parser("demo", help="play a full story against a local Bot API emulator")
    demo.add_argument("--keep-db", help="keep the demo database at this path")
    demo.add_argument("--channel", choices=["telegram", "zalo"], default="telegram",
                      help="the messenger the story plays on, against its fake API "
                           "(default: telegram)")
    sub.add_parser("chat", help="talk to the bot in this terminal")
    snd = sub.add_parser("sender", help="run only the outbox sender (deliver queued messages)")
    snd.add_argument("--worker", help="name recorded on claimed rows (default: host:pid:random)")
    snd.add_argument("--timeout", type=float, default=10.0,
                     help="seconds before a Bot API call counts as failed (default: 10)")
    exp = sub.add_parser("export", help="write a month's or a year's figures to Excel or CSV")
    which = exp.add_mutually_exclusive_group(required=True)
    which.add_argument("--period", help="the reported month, e.g. 2022-03")
    which.add_argument("--year", type=int, help="a whole year, e.g. 2022")
    exp.add_argument("--format", choices=["xlsx", "csv"], default=None,
                     help="xlsx (default) or csv: one CSV file per sheet (default: from "
                          "--out's extension, else xlsx)")
    exp.add_argument("--out", type=Path, default=None,
                     help="output file (default: ./thidua-PERIOD.xlsx or ./thidua-YEAR.xlsx)")
    doc = sub.add_parser("document", help="write the report on a month, a quarter, six "
                                          "months or the year as a Word document (.docx)")
    doc.add_argument("--period", required=True,
                     help="2022-03 (a month), 2022-Q2, 2022-H1 / 2022-H2 (sơ kết) or 2022 "
                          "(tổng kết)")
    doc.add_argument("--out", type=Path, default=None,
                     help="output file (default: ./bao-cao-thi-dua-PERIOD.docx)")
    mem = sub.add_parser("member", help="one member's personal data, on their request: "
                                         "export (JSON) or erase")
    mem.add_argument("action", choices=["export", "erase"])
    mem.add_argument("id", type=int, help="the member's number (as in /dulieu #12)")
    mem.add_argument("--out", type=Path, default=None,
                     help="export: the JSON file to write (default: print it)")
    mem.add_argument("--yes", action="store_true",
                     help="erase: confirm (it cannot be undone)")
    rev = sub.add_parser("review", help="the year's review: the ranking workbook and the draft "
                                        "Tờ trình đề nghị khen thưởng (.docx)")
    rev.add_argument("--year", required=True, help="the year reviewed, e.g. 2022")
    rev.add_argument("--out-dir", type=Path, default=Path("."),
                     help="folder to write both files in (default: the current folder)")
    return p


def _settings(args: argparse.Namespace, env: Environment) -> Settings:
    return load_settings(env.config_path(args.config))


def _say(line: str) -> None:
    # One write: a driver's thread still logging while we stop cannot split the line.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _db(args: argparse.Namespace, settings: Settings, env: Environment) -> int:
    """`thidua db upgrade|backup|restore` (backup and restore: `bot.backup`)."""
    from bot import backup
    from bot import subcommands as commands

    if (args.file is not None) != (args.action == "restore"):
        _say("thidua db restore takes the backup FILE; upgrade and backup take none")
        return EXIT_CONFIG
    if args.action == "backup":
        return asyncio.run(backup.backup(env.database_url, args.out))
    if args.action == "restore":
        return asyncio.run(backup.restore(env.database_url, args.file, yes=args.yes))
    return asyncio.run(commands.db_upgrade(settings, env=env))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The demo prints a transcript; library chatter would drown it.
    quiet = args.cmd == "demo" and not args.verbose
    logging.basicConfig(level=logging.DEBUG if args.verbose else
                        logging.WARNING if quiet else logging.INFO,
                        format=TEXT_FORMAT)
    install()  # invite codes in logs are hidden from the first record on
    # Read before the heavy imports below, which log already (matplotlib at -v): with
    # THIDUA_LOG_FORMAT=json every line must be JSON. A bad environment is reported
    # in the try below, like any other.
    env: Environment | None = None
    bad_env = InvalidEnvironment()
    try:
        env = Environment.load()
    except InvalidEnvironment as exc:
        bad_env = exc
    if env is not None:
        for secret in env.secret_values:
            protect(secret)
        use_format(env.log_format)
    # Heavy imports only once arguments are fine, and only what the command needs: the
    # commands writing files do not load what runs the bot (`bot.subcommands`).
    from bot import file_commands as files

    if args.cmd not in FILE_COMMANDS:
        from bot import subcommands as commands

    try:
        if env is None:
            raise bad_env
        if env.sentry_dsn is not None and args.cmd in ("run", "sender"):
            from bot.error_reports import start_sentry

            start_sentry(env.sentry_dsn.get_secret_value())
        if args.cmd == "demo":
            return asyncio.run(commands.demo(args.config, args.keep_db, env=env,
                                             channel=args.channel))
        settings = _settings(args, env)
        if args.cmd == "run":
            return asyncio.run(commands.run(settings, webhook=args.webhook, env=env))
        if args.cmd == "db":
            return _db(args, settings, env)
        if args.cmd == "invite":
            return asyncio.run(commands.invite(settings, args.group, args.role, args.expires,
                                               env=env, replaces=args.replaces))
        if args.cmd == "members":
            if (args.move is None) != (args.to is None):
                _say("thidua members: --move ID and --to GROUP go together")
                return EXIT_CONFIG
            from bot.member_commands import members

            return asyncio.run(members(settings, group=args.group,
                                       deactivate_id=args.deactivate,
                                       reactivate_id=args.reactivate, move_id=args.move,
                                       to=args.to, reason=args.reason, env=env))
        if args.cmd == "chat":
            return asyncio.run(commands.chat(settings, env=env))
        if args.cmd == "sender":
            return asyncio.run(commands.sender(settings, worker=args.worker,
                                               api_timeout=args.timeout, env=env))
        if args.cmd == "export":
            return asyncio.run(files.export(settings, period=args.period, year=args.year,
                                               fmt=args.format, out=args.out, env=env))
        if args.cmd == "document":
            return asyncio.run(files.document(settings, period=args.period, out=args.out,
                                                 env=env))
        if args.cmd == "member":
            from bot import personal_commands as personal

            if args.action == "export":
                return asyncio.run(personal.member_export(settings, args.id, args.out,
                                                          env=env))
            return asyncio.run(personal.member_erase(settings, args.id, args.yes, env=env))
        if args.cmd == "review":
            return asyncio.run(files.review(settings, year=args.year, out_dir=args.out_dir,
                                               env=env))
    except InvalidEnvironment as exc:
        print(f"Invalid environment:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"Invalid configuration:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ChannelAuthError as exc:
        _say(str(exc))  # its text never holds the token
        return EXIT_CONFIG
    except ChannelUnreachable as exc:
        _say(str(exc))
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.critical("thidua %s stopped on an unexpected error", args.cmd, exc_info=True)
        return 1
    return 1


def entry() -> None:
    """The `thidua` command. After a stopped `run` or `sender` everything is committed
    and closed; the interpreter's teardown of its modules then still takes a second or
    more on a busy host, which a supervisor's stop timeout (systemd, Kubernetes) counts.
    So those exit at once, once the output is flushed; so does a done `export`, its
    files written and closed, whose teardown was a sizeable part of a small export."""
    code = main()
    if code == 0 and build_parser().parse_args(sys.argv[1:]).cmd in {"run", "sender",
                                                                      "export"}:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    entry()
