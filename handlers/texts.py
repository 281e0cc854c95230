"""User-facing Chinese copy that more than one handler uses."""

NOT_BOUND = "您还没有绑定单位。请发送“绑定 单位名称 邀请码”（邀请码向管理员索取），或“绑定 单位名称”等待管理员确认。"
ADMIN_ONLY = "这个操作只有管理员可以使用"
UNKNOWN = "没太明白您的意思。发送“帮助”查看可用的指令。"
