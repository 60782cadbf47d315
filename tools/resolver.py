"""One entity resolver over the workspace: what staff type -> the keys the tools take.

Staff write "hamberg", "pet stuff", "the citrus hand cream", "sku 88", "4179", "A9". Every tool
resolves its arguments here (through ``Store``), and the argument guard uses the same resolver to
find the mentions in a request and put each in the slot of its kind. A mention that fits several
entities gets a clarifying error that lists them; one that fits none names the nearest.

Matching is word-level first (a distinctive word of a name, an everyday synonym of a category
word), fuzzy second (rapidfuzz, for typos), and a score threshold separates "unknown" from a match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

from tools.store.db import AmbiguousEntityError, UnknownEntityError, normalise_code

TYPO_SCORE = 85  # rapidfuzz ratio for a typed word to stand for a name word ("hamberg")
NEAR_SCORE = 60  # below this a candidate is not worth suggesting
# Words that name no particular category or supplier on their own.
GENERIC = {
    "accessories", "supplies", "supply", "products", "product", "goods", "items", "item",
    "stuff", "things", "gear", "range", "line", "wholesale", "group", "trading", "company",
    "international", "the", "and", "of", "for", "co", "dc", "warehouse", "site", "store",
}  # fmt: skip
LEGAL_FORMS = {
    "gmbh", "ag", "kg", "sp", "z", "o", "oo", "s", "r", "ro", "sro", "inc", "ltd", "llc",
    "sa", "bv", "srl", "oy", "ab", "as", "plc", "nv", "spa", "kft", "se",
}  # fmt: skip
# Everyday words for category words (the word on the right appears in a category's name).
CATEGORY_SYNONYMS = {
    "pets": "pet", "dog": "pet", "dogs": "pet", "cat": "pet", "cats": "pet", "animal": "pet",
    "cosmetics": "beauty", "cosmetic": "beauty", "skincare": "beauty", "makeup": "beauty",
    "grocery": "pantry", "groceries": "pantry", "food": "pantry", "snacks": "pantry",
    "stationery": "office", "electronic": "electronics", "tech": "electronics",
    "gadgets": "electronics", "bedding": "textiles", "linen": "textiles", "linens": "textiles",
    "towels": "textiles", "textile": "textiles", "cookware": "kitchen", "kitchenware": "kitchen",
    "toy": "toys", "games": "toys", "sport": "sports", "fitness": "sports", "outdoor": "garden",
    "gardening": "garden", "plants": "garden",
}  # fmt: skip
# Local names of cities (a site is often written the way its staff say it).
CITY_ALIASES = {
    "munchen": "munich", "muenchen": "munich", "koln": "cologne", "koeln": "cologne",
    "nurnberg": "nuremberg", "nuernberg": "nuremberg", "wien": "vienna", "praha": "prague",
    "warszawa": "warsaw", "milano": "milan", "frankfurt am main": "frankfurt",
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_SKU_CODE = re.compile(r"\bsku\s*[-#:_]?\s*0*(\d{1,7})\b", re.I)
_PO_CODE = re.compile(r"\b(?:po|purchase\s+order)\s*[-#:_]?\s*(?:no\.?\s*)?(\d{2,8})\b", re.I)
_ALERT_CODE = re.compile(r"\b(?:alert\s*#?\s*(?:a\s*-?\s*)?|a-?)(\d{1,6})\b", re.I)
# "SUP-008", "sup 8", "supplier #3", "vendor no. 5": a supplier by its id, whatever the padding.
_SUPPLIER_CODE = re.compile(
    r"\b(?:sup\s*[-#:_]?\s*|(?:supplier|vendor)\s*(?:#|no\.?|number)\s*)(\d{1,4})\b", re.I
)
_BARE_NUMBER = re.compile(r"(?<![\w.,-])(\d{3,8})(?![\w.,%-])")
_SITE_CUE = re.compile(r"\b(?:at|in|for|from|to|@)\s*$")


def fold(text: str) -> str:
    """Lower case without accents: 'München' -> 'munchen'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stem(word: str) -> str:
    """Plural and singular read alike: 'toys' ~ 'toy', 'textiles' ~ 'textile'."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


@dataclass(frozen=True)
class Mention:
    """An entity named in a text: ``key`` is the value a tool takes (a code, a category)."""

    kind: str
    key: str | None  # None when ambiguous
    start: int
    end: int
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.key is None


@dataclass
class _Name:
    key: str
    label: str
    words: list[str] = field(default_factory=list)  # distinctive words, folded
    weak: list[str] = field(default_factory=list)  # name words shared with others or a category

    @cached_property
    def all_words(self) -> set[str]:
        return set(words(self.label))


def _same_number(code: str, digits: str) -> bool:
    """Does ``code`` ('SUP-008') carry the number ``digits`` ('8', '008')?"""
    return re.sub(r"\D", "", code).lstrip("0") == digits.lstrip("0")


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    folded = fold(text)
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(folded)]


def _same_word(typed: str, name_word: str) -> bool:
    if stem(typed) == stem(name_word):
        return True
    if len(typed) < 5 or len(name_word) < 5:
        return False
    # longer words tolerate one more slip: 'vltvaa' is 'vltava'
    return fuzz.ratio(typed, name_word) >= (TYPO_SCORE if len(name_word) < 6 else TYPO_SCORE - 5)


class Resolver:
    """Resolves mentions against one store's entities (read once; ``refresh`` after imports)."""

    def __init__(self, store):
        self.store = store

    def refresh(self) -> None:
        for name in ("products", "locations", "suppliers", "categories", "po_numbers", "alerts"):
            self.__dict__.pop(name, None)

    # -- the workspace's entities ---------------------------------------------------------
    @cached_property
    def products(self):
        return self.store.query("SELECT sku, name, category FROM products ORDER BY sku")

    @cached_property
    def categories(self) -> list[_Name]:
        names = sorted(set(self.products.category)) if len(self.products) else []
        counts: dict[str, int] = {}
        for name in names:
            for w in {stem(w) for w in words(name)}:
                counts[w] = counts.get(w, 0) + 1
        return [
            _Name(name, name, [w for w in words(name) if counts[stem(w)] == 1 and w not in GENERIC])
            for name in names
        ]

    @cached_property
    def locations(self) -> list[_Name]:
        rows = self.store.query("SELECT location_id, name, city FROM locations ORDER BY 1")
        return [
            _Name(r.location_id, f"{r.name} ({r.location_id})", [w for w in words(f"{r.name} {r.city}") if w not in GENERIC])
            for r in rows.itertuples()
        ]  # fmt: skip

    @cached_property
    def suppliers(self) -> list[_Name]:
        rows = self.store.query("SELECT supplier_id, name FROM suppliers ORDER BY 1")
        counts: dict[str, int] = {}
        for r in rows.itertuples():
            for w in set(words(r.name)):
                counts[w] = counts.get(w, 0) + 1
        category_words = self._category_words
        names = []
        for r in rows.itertuples():
            usable = [
                w for w in words(r.name) if len(w) > 2 and w not in GENERIC and w not in LEGAL_FORMS
            ]
            strong = [w for w in usable if counts[w] == 1 and stem(w) not in category_words]
            names.append(
                _Name(
                    r.supplier_id,
                    f"{r.name} ({r.supplier_id})",
                    strong,
                    [w for w in usable if w not in strong],
                )
            )
        return names  # fmt: skip

    @cached_property
    def _category_words(self) -> set[str]:
        found = {stem(w) for c in self.categories for w in words(c.key)}
        return found | {stem(w) for w in CATEGORY_SYNONYMS} | {stem(w) for w in CATEGORY_SYNONYMS.values()}  # fmt: skip

    @cached_property
    def po_numbers(self) -> set[str]:
        return {
            r[0] for r in self.store.con.execute("SELECT po_number FROM purchase_orders").fetchall()
        }

    @cached_property
    def alerts(self) -> set[str]:
        return {r[0] for r in self.store.con.execute("SELECT alert_id FROM alerts").fetchall()}

    # -- one value, as a tool argument ----------------------------------------------------
    def location(self, text: str) -> str:
        """A site id from an id, name or city, typos and local names included."""
        found = self._named(text, self.locations, "location", whole=True)
        return self._one("location", text, found, [n.label for n in self.locations])

    def supplier(self, text: str) -> str:
        """A supplier id from an id, the name, a distinctive part of it or a typo of one."""
        key = fold(text).strip()
        code = _SUPPLIER_CODE.fullmatch(key)
        exact = [
            n.key
            for n in self.suppliers
            if key in (fold(n.key), fold(n.label.rsplit(" (", 1)[0]))
            or (code and _same_number(n.key, code.group(1)))
        ]
        found = exact or [k for m in self._scan(text, self.suppliers, "supplier") for k in (m.candidates or (m.key,))] or [
            n.key for n in self.suppliers if key and key in fold(n.label)
        ]  # fmt: skip
        return self._one("supplier", text, found, [n.label for n in self.suppliers])

    def category(self, text: str) -> str:
        """A category from its name, part of it, a plural, a typo or an everyday word."""
        key = fold(text).strip()
        exact = [c.key for c in self.categories if stem(key) == stem(fold(c.key))]
        found = exact or self._named(text, self.categories, "category", whole=True)
        return self._one("category", text, found, [c.key for c in self.categories])

    def sku(self, text: str) -> str:
        """A SKU code from a loose code ('sku 88', 'SKU88') or a product name or part of one."""
        code = self._sku_code(text)
        if code is not None:
            return code
        found = self._products_named(text)
        labels = [f"{r.name} ({r.sku})" for r in self.products.itertuples()]
        return self._one("sku", text, found, labels, label=self._product_label)

    def po(self, text: str) -> str:
        digits = re.sub(r"\D", "", str(text))
        code = normalise_code(digits or text, "PO")
        if code not in self.po_numbers:
            raise UnknownEntityError("po_number", str(text).strip())
        return code

    def alert(self, text: str) -> str:
        digits = re.sub(r"\D", "", str(text))
        code = f"A-{int(digits)}" if digits else str(text).strip().upper()
        if code not in self.alerts:
            raise UnknownEntityError("alert_id", str(text).strip())
        return code

    def key(self, kind: str, text: str) -> str:
        """The key a mention of ``kind`` resolves to (raises like the tools do)."""
        return getattr(self, kind)(text)

    def display(self, kind: str, key: str) -> str:
        """How a resolved entity is written into a call: sites and suppliers by name."""
        names = {"location": self.locations, "supplier": self.suppliers}.get(kind)
        if not names:
            return key
        return next((n.label.rsplit(" (", 1)[0] for n in names if n.key == key), key)

    def mentions_of(self, text: str, kind: str) -> list[Mention]:
        """Mentions of sites or suppliers only (cheap enough for a long tool result)."""
        names = {"location": self.locations, "supplier": self.suppliers}[kind]
        return self._scan(text, names, kind)

    # -- every mention in a request -------------------------------------------------------
    def mentions(self, text: str) -> list[Mention]:
        """Entities named in ``text``, longest names first, never two on the same words."""
        found: list[Mention] = []
        found += [Mention("sku", c, *s) for c, s in self._sku_codes(text)]
        found += [
            Mention("po", c, *s) for c, s in self._codes(text, _PO_CODE, "PO", self.po_numbers)
        ]
        found += [
            Mention("alert", c, *s) for c, s in self._codes(text, _ALERT_CODE, "A", self.alerts)
        ]
        found += [Mention("supplier", c, *s) for c, s in self._supplier_codes(text)]
        taken = [(m.start, m.end) for m in found]
        for kind, names in (("supplier", self.suppliers), ("location", self.locations)):
            for mention in self._scan(text, names, kind, taken):
                found.append(mention)
                taken.append((mention.start, mention.end))
        for mention in self._scan(text, self.categories, "category", taken, synonyms=True):
            found.append(mention)
            taken.append((mention.start, mention.end))
        if not any(m.kind == "sku" for m in found):
            found += self._product_mentions(text, taken)
        if not any(m.kind == "po" for m in found):  # "chase 4179": a bare number that is a PO
            for match in _BARE_NUMBER.finditer(text):
                code = normalise_code(match.group(1), "PO")
                if code in self.po_numbers and not _inside(match.span(), taken):
                    found.append(Mention("po", code, *match.span()))
        return sorted(found, key=lambda m: m.start)

    # -- matching -------------------------------------------------------------------------
    def _scan(
        self,
        text: str,
        names: Sequence[_Name],
        kind: str,
        taken: Sequence[tuple[int, int]] = (),
        synonyms: bool = False,
    ) -> list[Mention]:
        """Mentions of ``names`` in ``text`` by their distinctive words (and ids, for sites)."""
        spans = _word_spans(text)
        hits: dict[int, set[str]] = {}  # word index -> keys it names
        weak: set[int] = set()  # words that only name something together with others
        for i, (word, start, end) in enumerate(spans):
            if _inside((start, end), taken):
                continue
            word = CITY_ALIASES.get(word, word)
            if synonyms:
                word = CATEGORY_SYNONYMS.get(word, word)
            keys = {n.key for n in names if any(_same_word(word, w) for w in n.words)}
            if kind == "location" and not keys:
                keys = {
                    n.key
                    for n in names
                    if word == n.key.lower() and self._site_code_cue(text, start, end)
                }
            if not keys and (keys := {n.key for n in names if stem(word) in map(stem, n.weak)}):
                weak.add(i)
            if keys:
                hits[i] = keys
        mentions, i = [], 0
        indices = sorted(hits)
        while i < len(indices):  # adjacent words naming the same entity form one mention
            first = last = indices[i]
            keys = set(hits[first])
            while (
                i + 1 < len(indices) and indices[i + 1] == last + 1 and keys & hits[indices[i + 1]]
            ):
                i += 1
                last = indices[i]
                keys &= hits[last]
            ordered = tuple(sorted(keys))
            run = range(first, last + 1)
            if all(j in weak for j in run) and (
                not ordered or (len(run) == 1 and stem(spans[first][0]) in self._category_words)
            ):  # "cosmetics" alone names a category, not Weser Cosmetics
                i += 1
                continue
            if len(ordered) == 1:  # "weser cosmetics": the rest of the name goes with it
                whole = next(n.all_words for n in names if n.key == ordered[0])
                while (
                    first > 0
                    and spans[first - 1][0] in whole
                    and not _inside(spans[first - 1][1:], taken)
                ):
                    first -= 1
                while (
                    last + 1 < len(spans)
                    and spans[last + 1][0] in whole
                    and not _inside(spans[last + 1][1:], taken)
                ):
                    last += 1
                while i + 1 < len(indices) and indices[i + 1] <= last:
                    i += 1
            start, end = spans[first][1], spans[last][2]
            mentions.append(
                Mention(kind, ordered[0] if len(ordered) == 1 else None, start, end, ordered)
            )
            i += 1
        return mentions  # fmt: skip

    @staticmethod
    def _site_code_cue(text: str, start: int, end: int) -> bool:
        """A bare site code ('ham') counts when written in capitals or after 'at/in/for'."""
        return text[start:end].isupper() or bool(_SITE_CUE.search(text[:start].lower()))

    def _named(self, text: str, names: Sequence[_Name], kind: str, whole: bool) -> list[str]:
        key = CITY_ALIASES.get(fold(text).strip(), fold(text).strip())
        exact = [n.key for n in names if key in {fold(n.key), fold(n.label)} or key in n.words]
        if exact:
            return exact
        keys = {
            m.key or c
            for m in self._scan(text, names, kind, synonyms=kind == "category")
            for c in (m.candidates or (m.key,))
        }
        return sorted(keys)  # fmt: skip

    def _one(
        self, argument: str, text, found: Sequence[str], labels: Sequence[str], label=None
    ) -> str:
        found = list(dict.fromkeys(found))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            shown = [label(k) if label else self._label(argument, k) for k in found[:6]]
            raise AmbiguousEntityError(_argument(argument), str(text).strip(), shown)
        near = [
            m[0]
            for m in process.extract(
                fold(text), [fold(x) for x in labels], scorer=fuzz.WRatio, limit=3
            )
            if m[1] >= NEAR_SCORE
        ]
        originals = {fold(x): x for x in labels}
        raise UnknownEntityError(_argument(argument), str(text).strip(), [originals[n] for n in near])  # fmt: skip

    def _label(self, argument: str, key: str) -> str:
        names = {"location": self.locations, "supplier": self.suppliers}.get(argument, [])
        return next((n.label for n in names if n.key == key), key)

    def _product_label(self, sku: str) -> str:
        row = self.products[self.products.sku == sku]
        return f"{row.iloc[0]['name']} ({sku})" if len(row) else sku

    # -- products -------------------------------------------------------------------------
    def _sku_code(self, text: str) -> str | None:
        text = str(text).strip()
        if (self.products.sku == text.upper()).any():
            return text.upper()
        match = _SKU_CODE.search(text) or re.fullmatch(r"\s*0*(\d{1,7})\s*", text)
        if match is None:
            return None
        number = int(match.group(1))
        codes = [s for s in self.products.sku if re.sub(r"\D", "", s).lstrip("0") == str(number)]
        if not codes:
            near = process.extract(
                text.upper(), list(self.products.sku), scorer=fuzz.ratio, limit=3
            )
            raise UnknownEntityError(
                "sku", text, [code for code, score, _ in near if score >= NEAR_SCORE]
            )
        return codes[0]

    def _sku_codes(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        found = []
        for match in _SKU_CODE.finditer(text):
            number = str(int(match.group(1)))
            codes = [s for s in self.products.sku if re.sub(r"\D", "", s).lstrip("0") == number]
            if codes:
                found.append((codes[0], match.span()))
        return found

    def _supplier_codes(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        found = []
        for match in _SUPPLIER_CODE.finditer(text):
            keys = [n.key for n in self.suppliers if _same_number(n.key, match.group(1))]
            if keys:
                found.append((keys[0], match.span()))
        return found

    def _codes(self, text: str, pattern: re.Pattern, prefix: str, known: set[str]):
        found = []
        for match in pattern.finditer(text):
            code = f"{prefix}-{match.group(1)}" if prefix == "PO" else f"A-{int(match.group(1))}"
            if code in known:
                found.append((code, match.span()))
        return found

    @cached_property
    def _product_words(self) -> list[tuple[str, list[str], list[str]]]:
        """(sku, words of the product's name, words of its variant after the comma)."""
        out = []
        for r in self.products.itertuples():
            head, _, variant = str(r.name).partition(",")
            out.append((r.sku, [w for w in words(head) if w not in GENERIC], words(variant)))
        return out

    def _product_scores(self, text: str) -> list[tuple[str, int, float, int]]:
        """(sku, name words matched, share of the name matched, variant words matched)."""
        typed = [w for w in words(text) if len(w) > 1]
        scored = []
        for sku, name, variant in self._product_words:
            matched = sum(any(_same_word(t, w) for t in typed) for w in name)
            if matched >= 2 and matched / len(name) >= 0.6:
                extra = sum(w in typed for w in variant)
                scored.append((sku, matched, matched / len(name), extra))
        return scored

    def _products_named(self, text: str) -> list[str]:
        scored = self._product_scores(text)
        if not scored:
            return []
        best = max((s[1], s[2], s[3]) for s in scored)
        return [s[0] for s in scored if (s[1], s[2], s[3]) == best]

    def _product_mentions(self, text: str, taken) -> list[Mention]:
        skus = self._products_named(text)
        if not skus:
            return []
        typed = _word_spans(text)
        name_words = {w for sku, name, _ in self._product_words if sku in skus for w in name}
        spans = [
            (s, e)
            for w, s, e in typed
            if any(_same_word(w, n) for n in name_words) and not _inside((s, e), taken)
        ]
        if not spans:
            return []
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        key = skus[0] if len(skus) == 1 else None
        return [Mention("sku", key, start, end, tuple(skus))]  # fmt: skip


def _inside(span: tuple[int, int], taken: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _argument(kind: str) -> str:
    return {"po": "po_number", "alert": "alert_id"}.get(kind, kind)
