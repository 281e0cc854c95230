"""The roles a person has in the programme, and how people call them."""

ADMIN = "admin"
LIAISON = "liaison"
OFFICIAL = "official"

ROLES = (ADMIN, LIAISON, OFFICIAL)
"""Every role; a handler open to anyone registered declares all of them."""

ROLE_NAMES = {ADMIN: "管理员", LIAISON: "联络员", OFFICIAL: "领导"}
