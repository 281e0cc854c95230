"""帮助: generated from the handlers' own specs, so it always matches what the bot understands."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import HandlerSpec, Route, Router

router = Router("help")

HELP = HandlerSpec("help", ("帮助", "help", "菜单"), "帮助", "查看可用的指令", intents=("help",),
                   area="help")


def render_help(routes: list[Route], role: str | None) -> str:
    lines = ["可用指令（可带 / 或 #，群里请 @我 或以指令开头）："]
    for r in routes:
        if r.spec.roles and (role is None or role not in r.spec.roles):
            continue
        lines.append(f"· {r.spec.usage} —— {r.spec.summary}")
    return "\n".join(lines)


@router.handler(HELP)
def help_handler(ctx: Context) -> None:
    from handlers import all_routes

    ctx.reply(render_help(all_routes(), ctx.person.role if ctx.person else None))
