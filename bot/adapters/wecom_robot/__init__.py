"""WeCom (企业微信) group robots reached through their webhook keys."""

from bot.adapters.wecom_robot.adapter import WeComRobotAdapter, create
from bot.adapters.wecom_robot.client import (
    RobotDisabled,
    RobotRateLimited,
    WeComError,
    WeComRobot,
    robot_id,
    split_by_bytes,
)

__all__ = ["RobotDisabled", "RobotRateLimited", "WeComError", "WeComRobot", "WeComRobotAdapter",
           "create", "robot_id", "split_by_bytes"]
