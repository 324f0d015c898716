"""`vward`: the command line. Each subcommand builds Settings once and passes them down.

Modules behind a subcommand (the API, the dashboard, asyncpg, even pydantic-settings) are imported inside
it: `vward news2` at the bedside must answer in under 0.3 s, and loading all of them takes over 2 s.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from device_sims.cli import register as register_sim_commands
from rules.cli import register as register_rules_commands
from vward.admin_cli import register as register_admin_commands

if TYPE_CHECKING:
    from vward.settings import Settings

# vward.bootstrap.ROLES and vward.embedded.BROKER_CHOICES, spelt out so the parser loads neither module
# (tests/unit/kernel/test_cli_startup.py keeps them equal).
ROLES = ("ingest", "rules", "api")
BROKER_CHOICES = ("auto", "mosquitto", "amqtt")


def _settings() -> Settings:
    from vward.settings import Settings

    return Settings()


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from vward.demo import DemoOptions, run_demo

    settings = _settings()
    options = DemoOptions(
        port=args.port, patients=args.patients, data_dir=args.data_dir, seed=args.seed, broker=args.broker
    )
    asyncio.run(run_demo(settings, options))
    return 0


async def _run_roles(settings: Settings, roles: Sequence[str]) -> None:
    import asyncio
    import signal

    from vward.bootstrap import open_database, role_runners, run_until_stopped, serve_metrics_without_api

    secret = settings.require_secret() if "api" in roles else None
    pool = await open_database(settings)
    serve_metrics_without_api(roles, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_until_stopped(role_runners(roles, settings, pool, secret), stop)
    finally:
        await pool.close()


def _cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    settings = _settings()
    roles = ROLES if args.role == "all" else (args.role,)
    if not settings.database_url or ("ingest" in roles and not settings.mqtt_url):
        print("vward run needs VWARD_DATABASE_URL (and VWARD_MQTT_URL for ingest)", file=sys.stderr)
        return 2
    asyncio.run(_run_roles(settings, roles))
    return 0


async def _migrate(dsn: str) -> list[str]:
    from vward.storage.migrate import migrate
    from vward.storage.pool import create_pool

    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await migrate(conn)
    finally:
        await pool.close()


def _cmd_migrate(_: argparse.Namespace) -> int:
    import asyncio

    settings = _settings()
    if not settings.database_url:
        print("vward migrate needs VWARD_DATABASE_URL", file=sys.stderr)
        return 2
    applied = asyncio.run(_migrate(settings.database_url))
    print("applied: " + (", ".join(applied) if applied else "nothing, schema is current"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vward", description="virtual ward: remote patient monitoring")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (ids only, never patient data)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole platform with a simulated ward, in one process")
    demo.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    demo.add_argument("--patients", type=int, default=40, help="simulated patients (default 40)")
    demo.add_argument("--data-dir", type=Path, default=Path(".vward"), help="embedded servers' data (default .vward/)")
    demo.add_argument("--seed", type=int, default=1, help="simulation seed")
    demo.add_argument(
        "--broker",
        choices=BROKER_CHOICES,
        default="auto",
        help="embedded MQTT broker when VWARD_MQTT_URL is unset (default auto: mosquitto if installed, else amqtt)",
    )
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser("run", help="one process role, for scaled-out deployments")
    run.add_argument("role", choices=[*ROLES, "all"])
    run.set_defaults(func=_cmd_run)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)
    register_rules_commands(sub)
    register_sim_commands(sub)
    register_admin_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _is_settings_error(exc):
            raise
        print(f"vward: {exc}", file=sys.stderr)
        return 2
    return code


def _is_settings_error(exc: Exception) -> bool:
    """Whether `exc` is a SettingsError, without importing vward.settings: whatever raised one loaded it."""
    settings = sys.modules.get("vward.settings")
    return settings is not None and isinstance(exc, settings.SettingsError)


if __name__ == "__main__":
    sys.exit(main())
