"""Segments ↔ plain JSON, for the outbox and the message store (platform-neutral)."""

from __future__ import annotations

from typing import Any

from bot.core.event import (
    Face,
    File,
    FileOffer,
    Image,
    Mention,
    Other,
    Reply,
    Segment,
    StoredImage,
    Text,
)


def dump(segments: tuple[Segment, ...] | list[Segment]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in segments:
        if isinstance(s, Text):
            out.append({"t": "text", "text": s.text})
        elif isinstance(s, Mention):
            out.append({"t": "mention", "user_id": s.user_id, "name": s.name})
        elif isinstance(s, Reply):
            out.append({"t": "reply", "message_id": s.message_id}
                       | ({"user_id": s.user_id} if s.user_id else {}))
        elif isinstance(s, Image):
            out.append({"t": "image", "file": s.file, "url": s.url, "name": s.name})
        elif isinstance(s, File):
            out.append({"t": "file", "name": s.name, "file_id": s.file_id, "url": s.url})
        elif isinstance(s, Face):
            out.append({"t": "face", "id": s.id})
        elif isinstance(s, StoredImage):
            # The hash only, never the bytes: the row stays small and the file is read at send.
            out.append({"t": "stored_image", "sha256": s.sha256, "name": s.name, "size": s.size,
                        "fallback": s.fallback})
        elif isinstance(s, FileOffer):
            out.append({"t": "file_offer", "name": s.name, "url": s.url, "fallback": s.fallback})
        else:
            out.append({"t": "other", "type": s.type, "data": [list(kv) for kv in s.data]})
    return out


def load(data: list[dict[str, Any]]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for d in data:
        t = d.get("t")
        if t == "text":
            out.append(Text(str(d.get("text", ""))))
        elif t == "mention":
            out.append(Mention(str(d.get("user_id", "")), str(d.get("name", ""))))
        elif t == "reply":
            out.append(Reply(str(d.get("message_id", "")), str(d.get("user_id", ""))))
        elif t == "image":
            out.append(Image(file=str(d.get("file", "")), url=str(d.get("url", "")),
                             name=str(d.get("name", ""))))
        elif t == "file":
            out.append(File(name=str(d.get("name", "")), file_id=str(d.get("file_id", "")),
                            url=str(d.get("url", ""))))
        elif t == "face":
            out.append(Face(str(d.get("id", ""))))
        elif t == "stored_image":
            out.append(StoredImage(sha256=str(d.get("sha256", "")), name=str(d.get("name", "")),
                                   size=int(d.get("size") or 0),
                                   fallback=str(d.get("fallback", ""))))
        elif t == "file_offer":
            out.append(FileOffer(name=str(d.get("name", "")), url=str(d.get("url", "")),
                                 fallback=str(d.get("fallback", ""))))
        else:
            pairs = tuple((str(k), str(v)) for k, v in d.get("data", []))
            out.append(Other(str(d.get("type", "unknown")), pairs))
    return tuple(out)
