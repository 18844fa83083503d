"""Parsed document -> passages with stable ids, deep links and cross-references.

Parsers already cut a document at its own structure (paragraph, point, recital,
definition, guideline paragraph, page section). Here each block becomes a passage;
a block longer than ``max_words`` is split at sentence ends into parts ``~2``, ``~3``
(never merged with another block). Ids are derived from the provision, so they are
stable across re-ingests: ``ai-act/nl/art-5.1.f``, ``guidelines-prohibited/en/par-42~2``.
"""

from __future__ import annotations

import hashlib
import re

from . import legal
from .guard import find_injections
from .types import Document, Passage

_SENT_END = re.compile(r"(?<=[.;:])\s+(?=[(\"'A-Z0-9])")


def split_long(text: str, max_words: int) -> list[str]:
    """Split text into parts of at most ~max_words words, at sentence (or line) ends."""
    if len(text.split()) <= max_words:
        return [text]
    units: list[str] = []
    for line in text.split("\n"):
        units.extend(u for u in _SENT_END.split(line) if u.strip())
    parts: list[str] = []
    cur: list[str] = []
    n = 0
    for u in units:
        w = len(u.split())
        if cur and n + w > max_words:
            parts.append(" ".join(cur))
            cur, n = [], 0
        # a single unit longer than the limit is cut by words (split once: linear in its length)
        if w > max_words * 1.5:
            words = u.split()
            i = 0
            while len(words) - i > max_words * 1.5:
                parts.append(" ".join(words[i : i + max_words]))
                i += max_words
            u = " ".join(words[i:])
            w = len(words) - i
        cur.append(u)
        n += w
    if cur:
        parts.append(" ".join(cur))
    return parts


def url_for(base: str, anchor: str) -> str:
    return f"{base}#{anchor}" if anchor else base


def content_hash(p: Passage) -> str:
    from .embed import document_text

    return hashlib.sha256(document_text(p).encode("utf-8")).hexdigest()


def chunk_document(doc: Document, max_words: int = 220) -> list[Passage]:
    src = doc.source
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for block in doc.blocks:
        base_id = f"{src.doc}/{src.lang}/{legal.id_suffix(block.provision)}"
        if block.history:  # a superseded wording: the id + "@" + the day it took effect (types.Passage)
            base_id += f"@{block.valid_from}"
        if base_id in seen:  # a parser gave two blocks one provision: keep both, distinct ids
            seen[base_id] += 1
            base_id = f"{base_id}-{seen[base_id]}"
        else:
            seen[base_id] = 1
        refs = block.refs or legal.find_refs(block.text, src.lang)
        own = legal.article_of(block.provision) if src.doc == "ai-act" else None
        refs = [r for r in refs if not own or legal.article_of(r) != own]
        parts = split_long(block.text, max_words)
        for i, part in enumerate(parts, 1):
            p = Passage(
                id=base_id if i == 1 else f"{base_id}~{i}",
                doc=src.doc,
                lang=src.lang,
                provision=block.provision,
                label=block.label if len(parts) == 1 else f"{block.label} ({i}/{len(parts)})",
                title=block.title,
                url=block.url or url_for(src.url, block.anchor),
                text=part,
                kind=block.kind,
                binding=src.binding,
                version=block.version or src.version,
                source_id=src.id,
                refs=list(refs),
                amends=list(block.amends),
                context=block.context,
                order=len(passages),
                valid_from=block.valid_from,
                valid_to=block.valid_to,
                amended_by=list(block.amended_by),
                current_note=block.current_note,
                current_note_source=block.current_note_source,
            )
            p.flagged = find_injections(part)  # text addressed to the assistant (guard.py)
            p.content_hash = content_hash(p)
            passages.append(p)
    return passages
