"""Thai word search. Thai is written without spaces between words, so the words of a document (subject,
parties, numbers, body, endorsements) are split with pythainlp's dictionary tokenizer when it is saved and
stored joined by spaces; a query is split the same way and a document matches when it holds every word.
PostgreSQL answers from a GIN index over the array of words (migration f5c63d248322); SQLite with LIKE."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import and_, func, literal, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy import Text

from app.extensions import db
from app.saraban.models import Document

_WORD = re.compile(r"[0-9A-Za-z\u0E00-\u0E7F]")
MAX_QUERY_WORDS = 12


def words(*texts, inner: bool = False) -> list[str]:
    """The distinct words of the texts, in order: Thai split by the dictionary, other text at spaces and
    punctuation, Thai digits read as Arabic ones, letters lower-cased. With `inner`, a compound's own
    dictionary words too (ความอนุเคราะห์ also gives อนุเคราะห์), so a search for the shorter word finds it."""
    from pythainlp.tokenize import word_tokenize

    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        text = unicodedata.normalize("NFC", str(text)).translate(_THAI_DIGITS).lower()
        for token in word_tokenize(text, engine="newmm", keep_whitespace=False):
            for part in re.split(r"[^0-9a-z\u0E00-\u0E7F]+", token):
                if part and _WORD.search(part):
                    seen.setdefault(part, None)
                    if inner and len(part) >= 4 and _THAI.match(part):
                        for word in _inner_words(part):
                            seen.setdefault(word, None)
    return list(seen)


_THAI = re.compile(r"^[\u0E00-\u0E7F]+$")
_dictionary: frozenset[str] | None = None


def _inner_words(token: str) -> list[str]:
    """The dictionary words of three or more letters inside a longer Thai word, cut only between Thai
    character clusters (never between a consonant and its vowel or tone mark)."""
    global _dictionary
    from pythainlp.tokenize.tcc import tcc_pos

    if _dictionary is None:
        from pythainlp.corpus import thai_words

        _dictionary = frozenset(thai_words())
    n = len(token)
    cuts = sorted({0, n} | set(tcc_pos(token)))
    return [token[i:j] for a, i in enumerate(cuts) for j in cuts[a + 1:]
            if (i, j) != (0, n) and j - i >= 3 and token[i:j] in _dictionary]


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def index(document: Document, extra=()) -> None:
    """Store the document's words (call before every commit that changes what it says)."""
    from app.saraban.models import Endorsement, Routing
    from sqlalchemy import select

    texts = [document.subject, document.sender, document.addressee, document.their_ref, document.book_no,
             f"{document.register_no}/{document.register_year}" if document.register_no else None,
             document.reference, document.enclosures, document.body, document.remark, document.action_taken]
    if document.id is not None:
        for comment, order in db.session.execute(select(Endorsement.comment, Endorsement.order_text).where(
                Endorsement.document_id == document.id)):
            texts += [comment, order]
        texts += list(db.session.scalars(select(Routing.instruction).where(Routing.document_id == document.id)))
    document.search_text = " ".join(words(*texts, *extra, inner=True))


def matches(query: str):
    """A WHERE clause: the document holds every word of the query (true for an empty query)."""
    wanted = words(query)[:MAX_QUERY_WORDS]
    if not wanted:
        return true()
    if db.session.get_bind().dialect.name == "postgresql":
        # text[] on both sides (a varchar[] literal has no @> with text[], and the GIN index is over text[])
        return func.string_to_array(Document.search_text, literal(" ", Text)).op("@>")(
            literal(wanted, ARRAY(Text)))
    padded = literal(" ") + Document.search_text + literal(" ")
    return and_(*(padded.like(f"% {_escape(w)} %", escape="\\") for w in wanted))


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
