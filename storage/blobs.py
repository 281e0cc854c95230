"""Where attachments live on disk: content-addressed files under ``<data_dir>/files``.

The layout is known here once, for the file store that writes attachments (bot/services/files.py) and for
backup and restore, which copy them: ``files/<first two hex digits>/<sha256>``.
"""

from __future__ import annotations

import re
from pathlib import Path

FILES_DIR = "files"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def files_root(data_dir: Path) -> Path:
    return data_dir / FILES_DIR


def is_sha256(text: str) -> bool:
    return _SHA256.fullmatch(text) is not None


def blob_path(root: Path, sha256: str) -> Path:
    """The file holding the content whose hash is ``sha256`` (a checked hex digest)."""
    if not is_sha256(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256[:80]!r}")
    return root / sha256[:2] / sha256
