"""``dudao serve`` (the whole service in one process) and ``dudao console`` (chat in a terminal)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import socket
import sys
import tomllib

from bot.cli import logs
from bot.cli.common import CliError, Subcommands, leaf, load, public_url_warning
from config.masking import mask_url

log = logging.getLogger("dudao.cli")


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load(args)
    logs.apply_service_level(settings.service.log_level, verbose=args.verbose)
    # Imported after the log level is set: importing alembic logs its plugin set-up.
    from aiohttp import web

    from bot.app import SERVICES, create_app
    from bot.web.access_log import RedactingAccessLogger

    host = args.host or settings.http.host
    port = args.port or settings.http.port
    check_can_listen(host, port)  # before anything starts: a busy port is one line, not a trace
    app = create_app(settings)

    async def main() -> None:
        # Tokens and signed links travel in URLs: the access log redacts them.
        runner = web.AppRunner(app, handle_signals=False, access_log_class=RedactingAccessLogger)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:  # taken since check_can_listen()
            log.debug("cannot listen on %s:%s", host, port, exc_info=True)
            await runner.cleanup()
            raise CliError(cannot_listen(host, port, exc), status=1) from None
        base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
        print(f"dudao {_version()} listening on {base}", flush=True)
        print(f"  health:       {base}/healthz", flush=True)
        print(f"  board:        {base}/", flush=True)
        running = {a.name for a in app[SERVICES].adapters}  # [service] adapters, configured
        if "onebot" in running:
            print(f"  OneBot v11:   ws://{base.removeprefix('http://')}/onebot/v11/ws "
                  f"(HTTP push: {base}/onebot/v11/http)", flush=True)
            print(f"  OneBot v12:   ws://{base.removeprefix('http://')}/onebot/v12/ws",
                  flush=True)
        if "wechat_mp" in running:
            print(f"  WeChat MP:    {base}/wechat/mp", flush=True)
        print(f"  database:     {mask_url(settings.database_url)}", flush=True)
        if (warning := public_url_warning(settings, host)) is not None:
            print(warning, file=sys.stderr, flush=True)
            log.warning("public_url is not set while listening on %s: links will name %s",
                        host, settings.http.base_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("shutting down…", flush=True)
        await runner.cleanup()

    asyncio.run(main())
    return 0


def check_can_listen(host: str, port: int) -> None:
    """Bind every address the server will listen on, and let go: raises CliError if one fails.

    The sockets are set up as asyncio's ``create_server`` sets up the server's own
    (``SO_REUSEADDR``, IPv6 only on IPv6 sockets), so a port only in TIME_WAIT passes and one
    that another process listens on does not.
    """
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(cannot_listen(host, port, exc), status=1) from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                log.debug("cannot bind %s", address, exc_info=True)
                raise CliError(cannot_listen(host, port, exc), status=1) from None


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """Why the service could not open its port, in one line that says what to do."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"端口 {port} 已被占用，无法在 {where} 上监听：可能已有一个 dudao serve 在运行；"
                "请先停止它，或用 --port（配置 [http] port）换一个端口")
    if exc.errno == errno.EACCES:
        return f"没有权限在 {where} 上监听（1024 以下的端口需要管理员权限）：请用 --port 换一个端口"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"无法在 {where} 上监听：本机没有这个地址，请检查 --host（配置 [http] host）"
    return f"无法在 {where} 上监听：{exc.strerror or exc}"


def _version() -> str:
    from bot import __version__

    return __version__


def cmd_console(args: argparse.Namespace) -> int:
    from bot.app import run_console
    from bot.domain.identities import IdentityError, normalise

    try:  # `--as QQ:10001` is the person registered as qq:10001
        identity = normalise(args.as_, None)  # any platform an adapter may bring
    except IdentityError as exc:
        raise CliError(exc.message) from None
    return run_console(load(args), identity=identity, chat=args.group)


def _bundled_http_defaults() -> dict[str, object]:
    """[http] of config/default.toml, for the help text (no user file is read for --help)."""
    from config.settings import DEFAULT_CONFIG_PATH

    with DEFAULT_CONFIG_PATH.open("rb") as f:
        http: dict[str, object] = tomllib.load(f)["http"]
    return http


def register(sub: Subcommands) -> None:
    http = _bundled_http_defaults()
    s = leaf(sub, "serve", cmd_serve, "运行服务（HTTP、适配器、调度、发件箱）", json_=False)
    s.add_argument("--host", help=f"监听地址（默认取配置 [http] host，未配置时为 {http['host']}）")
    s.add_argument("--port", type=int,
                   help=f"监听端口（默认取配置 [http] port，未配置时为 {http['port']}）")
    c = leaf(sub, "console", cmd_console, "在终端里与机器人对话", json_=False)
    c.add_argument("--as", dest="as_", default="qq:10001", help="以哪个身份发言，如 qq:10001")
    c.add_argument("--group", default="qq:group:20001", help="在哪个群里，如 qq:group:20001")
