"""Private jieba tokenizers, cloned from one pristine dictionary loaded once per process.

Loading jieba's main dictionary costs about half a second and 60 MB; a parser rebuilt because a
task or unit was added must not pay that again, nor grow the dictionary of the parser still in
use (a rebuilt parser is swapped in whole, so the old one must stay untouched). So the dictionary
is loaded once into a base tokenizer that is never given user words, and every parser gets a
shallow copy of its prefix dictionary (about 10 ms; the word strings and counts are shared).

The global ``jieba.dt`` is never initialised or modified.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

_lock = threading.Lock()
_base: jieba.Tokenizer | None = None


def _base_tokenizer() -> jieba.Tokenizer:
    global _base
    import jieba  # here, not at module level: importing the handlers must not cost jieba's 0.2 s

    with _lock:
        if _base is None:
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            _base = tk
        return _base


def fresh_tokenizer() -> jieba.Tokenizer:
    """An initialised tokenizer of our own, with the main dictionary and no user words."""
    import jieba

    base = _base_tokenizer()
    tk = jieba.Tokenizer()
    # ``initialize`` fills exactly these two (prefix dictionary and total frequency); copying
    # them and marking the tokenizer initialised is the same as loading it again.
    with base.lock:
        tk.FREQ = dict(base.FREQ)
        tk.total = base.total
    tk.initialized = True
    return tk
