"""Simulated invoice extraction: vendor, date, total and currency (as JSON) from a document.

Mistakes come from the document (subtotals beside totals, ambiguous dates, locale number
formats, scan damage, planted instructions) and the model's profile: a careful reader takes
the grand total, the issue date and the seller, a hasty one the first of each.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ._profiles import SimProfile
from ._prompt import Dice, Prompt, payload, to_json

_CODES = (
    "USD",
    "EUR",
    "GBP",
    "CHF",
    "JPY",
    "CAD",
    "AUD",
    "NZD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "INR",
    "SGD",
    "HKD",
    "ZAR",
    "BRL",
    "MXN",
    "GHS",
    "HUF",
    "TRY",
    "CNY",
    "KRW",
)
_SYMBOLS = (
    ("NZ$", "NZD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("S$", "SGD"),
    ("HK$", "HKD"),
    ("R$", "BRL"),
    ("£", "GBP"),
    ("€", "EUR"),
    ("¥", "JPY"),
    ("円", "JPY"),
    ("₹", "INR"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
)
_DOLLAR_PLACES = (
    (r"canad|toronto|montr[ée]al|vancouver|halifax|ontario|saskatoon|\b(ON|QC|BC|AB)\b", "CAD"),
    (r"australia|sydney|melbourne|brisbane|byron bay|\b(NSW|VIC|QLD)\b", "AUD"),
    (r"new zealand|auckland|wellington|\(NZ\)", "NZD"),
    (r"singapore", "SGD"),
    (r"mexic|\bMXN\b", "MXN"),
)
_KRONA_PLACES = (
    (r"oslo|norw|norge|trondheim|bergen|\bmva\b", "NOK"),
    (r"copenhagen|københavn|denmark|danmark|\bi alt\b", "DKK"),
    (r"stockholm|malmö|sweden|sverige|göteborg|\bmoms\b", "SEK"),
)


def _currency(doc: str, profile: SimProfile, dice: Dice) -> str:
    local = dice.chance(profile.numbers)
    for code in _CODES:
        if re.search(rf"\b{code}\b", doc):
            return code
    for symbol, code in _SYMBOLS:
        if symbol in doc and (len(symbol) == 1 or local or not symbol.endswith("$")):
            return code
    if re.search(r"\beuros?\b", doc, re.I):
        return "EUR"
    if re.search(r"\d\s?kr\b|\bkr\s?\d", doc, re.I):
        if local:
            for pattern, code in _KRONA_PLACES:
                if re.search(pattern, doc, re.I):
                    return code
        return "SEK"
    if re.search(r"\bR\s?\d", doc) and local:
        return "ZAR"
    if local:
        for pattern, code in _DOLLAR_PLACES:
            if re.search(pattern, doc, re.I if code != "CAD" else 0):
                return code
    return "USD"


_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})
_OCR_RUN = re.compile(r"(?<![^\W\d_])[\dOolI]+(?:[.,' ][\dOolI]+)*(?![^\W\d_])")
_AMOUNT = re.compile(
    r"(?<![\w.,/-])-?\(?(?:\d{1,3}(?:(?:[ '\u00a0]|\s?[.,])\d{3})+|\d+)(?:[.,]\d{1,2})?\)?"
    r"(?![\d%/]|[.,]\d|\s?(?:x\b|h\b|kg\b|km\b|gb\b|tb\b|pages?\b|nights?\b|days?\b|walks?\b))",
    re.I,
)


def _ocr_numbers(text: str) -> str:
    """Undo O/0 and l/1 swaps inside numbers (what a careful reader of a scan does)."""
    return _OCR_RUN.sub(
        lambda m: m.group(0).translate(_OCR_DIGITS) if re.search(r"\d", m.group(0)) else m.group(0),
        text,
    )


def _number(raw: str, eu_aware: bool) -> float | None:
    text = raw.replace("\u00a0", " ").replace("'", "").replace("(", "").replace(")", "")
    text = re.sub(r"\s", "", text)
    if eu_aware and re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{1,2}", text):
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d{2}", text):
        text = text.replace(",", ".") if eu_aware else text.replace(",", "")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text) and eu_aware:
        text = text.replace(".", "")
    else:
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return round(value, 2)


_STRONG_TOTAL = re.compile(
    r"grand total|total (due|payable|amount|ttc|paid|charged|this|new charges|for this|a pagar)|"
    r"invoice total|amount (due|payable|paid)|gesamtbetrag|rechnungsbetrag|endbetrag|"
    r"totale documento|totaal te betalen|att betala|å betale|\bi alt\b|celkem|razem brutto|"
    r"importe total|montant total|total \(?inc|total \(|total [a-z]{3}\b|comes to|"
    r"(total|final)[^.]{0,25}\bis\b|this is the one|use final|\bfinal\b",
    re.I,
)
_TOTAL = re.compile(
    r"\btotal[e]?\b|\btotaal\b|\bsumme?\b|\bsumma\b|\bsum\b|\bgesamt\b|"
    r"\bvalor\b|\bamount\b|\bpaid\b|\bcharged\b|\bfor\b|\bis\b",
    re.I,
)
_NOT_TOTAL = re.compile(
    r"sub-?total|subtotaal|zwischensumme|\bnet(to)?\b|nettobetrag|\bht\b|imponible|netto|"
    r"\bbase\b|základ|\bvat\b|\btax\b|\btva\b|\bmwst\b|\biva\b|\bgst\b|\bhst\b|\bmva\b|"
    r"\bmoms\b|\bdph\b|\bust\b|deposit|acompte|abschlag|already|paid by|payments? received|"
    r"previous|past due|balance|remaining|solde|saldo|reste|\bbal\b|change|rückgeld|resto|"
    r"cash|contanti|\bcard\b|debit|credits?\b|visa|\bbar\b|gutschein|voucher|rewards|"
    r"mutuelle|proforma|quote|original|late fee|still open|ignore|note to ai|instructions|"
    r"zu zahlen|pagamento|anterior|next|price then|betalt|you saved|eftpos|multibanco|"
    r"\bcb\b|tip\b|current charges|plus|\+|herav|enthalten|dont",
    re.I,
)


def _label_score(label: str, careful: bool) -> float:
    low = re.sub(r"(?<=[a-z])0|0(?=[a-z])", "o", label.lower())
    low = re.sub(r"(?<=[a-z])1|1(?=[a-z])", "l", low)
    if _STRONG_TOTAL.search(low):
        return 5.0
    if _TOTAL.search(low):
        return 1.0 if careful and _NOT_TOTAL.search(low) else 3.0
    return 0.0


def _total(doc: str, profile: SimProfile, dice: Dice, eu_aware: bool) -> float | None:
    careful = dice.chance(profile.careful_total)
    lines = [ln for ln in re.split(r"\n|(?<=[.;!])\s+(?=[A-Z])", doc) if ln.strip()]
    scored: list[tuple[float, int, float]] = []
    plain: list[float] = []
    for index, line in enumerate(lines):
        position = 0
        for match in _AMOUNT.finditer(line):
            value = _number(match.group(0), eu_aware)
            label = line[position : match.start()]
            position = match.end()
            if value is None or (value == int(value) and (1900 <= value <= 2100 or value > 1e7)):
                continue
            if re.search(r"[#№]|\bno\.?\s*$|\bnr\.?\s*$|invoice\s*$|ref\s*$", label, re.I):
                continue  # an invoice or order number, not money
            plain.append(value)
            score = _label_score(label, careful)
            if score > 0:
                scored.append((score, index, value))
    if scored:
        if careful:  # the best-labelled amount; among equals the later (totals come last)
            return abs(max(scored, key=lambda s: (s[0], s[1]))[2])
        return next(v for score, _, v in scored if score >= 3 or score == scored[0][0])
    if not plain:
        return None
    return max(plain) if careful else plain[-1]


_MONTH_NAMES = (
    "january jan janvier janv enero ene januar jän janeiro gennaio januari",
    "february feb février févr febrero februar fevereiro febbraio februari",
    "march mar mars marzo märz mär março maart",
    "april apr avril avr abril aprile",
    "may mai mayo maio maggio mei",
    "june jun juin junio juni junho giugno",
    "july jul juillet juil julio juli julho luglio",
    "august aug août agosto augustus",
    "september sep sept septembre septiembre setembro settembre",
    "october oct octobre octubre oktober outubro ottobre okt",
    "november nov novembre noviembre novembro",
    "december dec décembre déc diciembre dezember dez dezembro dicembre",
)
_MONTHS: dict[str, int] = {}
for _month_number, _spellings in enumerate(_MONTH_NAMES, start=1):
    _MONTHS.update({w: _month_number for w in _spellings.split() if w not in _MONTHS})

_DATE_KEY = re.compile(
    r"\bdate\b|\bdated\b|datum|fecha|\bdata\b|émission|établie|issued|"
    r"invoiced|fakturadato|fakturadatum|factuurdatum|rechnungsdatum|"
    r"wystawienia|vystavení|emitida|emitid|billed on|charged|\bvom\b|年",
    re.I,
)
_DATE_AWAY = re.compile(
    r"due|échéance|vencimiento|förfallo|vervaldatum|zahlbar|delivery|"
    r"lieferdatum|service|event|booked|install|next|original|"
    r"ausfahrt|einfahrt|opening|leistungszeitraum|period|again",
    re.I,
)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _date_in(line: str, day_first: bool, foreign_months: bool) -> str | None:
    line = _ocr_numbers(line)
    m = re.search(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b", line)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", line)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(
        r"\b(\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?([^\W\d_]{3,})\.?,?\s+"
        r"(?:de\s+)?(\d{4})\b",
        line,
    )
    if m:
        month = _month(m.group(2), foreign_months)
        if month:
            return _iso(int(m.group(3)), month, int(m.group(1)))
    m = re.search(r"\b([^\W\d_]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})\b", line)
    if m:
        month = _month(m.group(1), foreign_months)
        if month:
            return _iso(int(m.group(3)), month, int(m.group(2)))
    m = re.search(r"\b(\d{1,2})([./-])(\d{1,2})\2(\d{4})\b", line)
    if m:
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        first_is_day = day_first or m.group(2) in ".-"
        if a > 12:
            first_is_day = True
        elif b > 12:
            first_is_day = False
        return _iso(year, b, a) if first_is_day else _iso(year, a, b)
    return None


def _month(word: str, foreign: bool) -> int | None:
    word = word.lower().rstrip(".")
    month = _MONTHS.get(word)
    if month is None:
        return None
    english = (
        word
        in (
            "january february march april may june july august september october "
            "november december jan feb mar apr jun jul aug sep sept oct nov "
            "dec"
        ).split()
    )
    return month if english or foreign else None


def _day_first(doc: str, knows_locale: bool) -> bool:
    """Whether dd/mm/yyyy is meant: stated formats win, then the issuer's country."""
    if re.search(r"MM/DD|US format", doc):
        return False
    if re.search(r"DD/MM|JJ/MM|TT\.MM|\(UK\)|\(NZ\)|dd/mm", doc, re.I):
        return True
    if not knows_locale:
        return False  # the classic mistake: every slash date read the US way
    if re.search(
        r"\b[A-Z]{2} \d{5}\b|,\s?(TX|CA|NY|OR|WA|AZ|CO|NC|NJ|IL|ID|AK|WI|NE|TN|MA)\b|"
        r"\b(Phoenix|Chicago|Seattle|Denver|Boise|Austin|Raleigh|Nashville)\b",
        doc,
    ):
        return False
    return True


def _date(doc: str, profile: SimProfile, dice: Dice) -> str | None:
    knows_locale = dice.chance(profile.numbers)
    careful = dice.chance(profile.careful_total)
    day_first = _day_first(doc, knows_locale)
    lines = [ln for ln in re.split(r"\n|\s\|\s|\s—\s|;", doc) if ln.strip()]
    keyed = [ln for ln in lines if _DATE_KEY.search(ln)]
    if careful:
        keyed = [ln for ln in keyed if not _DATE_AWAY.search(ln)] or keyed
        ordered = keyed + [ln for ln in lines if not _DATE_AWAY.search(ln)] + lines
    else:
        ordered = lines  # the first date anywhere, due date or not
    for line in ordered:
        found = _date_in(line, day_first, foreign_months=knows_locale)
        if found:
            return found
    return None


_VENDOR_LABEL = re.compile(
    r"(?i:issued by|bill from|invoice (?:received )?from|receipt from|vendor|supplier|seller|"
    r"issuer|merchant|company|rechnungssteller|émetteur|fornecedor|dostawca|leverandør|"
    r"dodavatel|betreiber|footer|from)\b[ \t]*[:|\t]?[ \t]*\n?[ \t]*"
    r"(?P<name>[A-Z][^\n,|(<—·]+(?:,\s*(?:Lda|Inc|Ltd|LLC|S\.?A|S\.?L)\.?)?)",
)
_DOC_WORDS = re.compile(
    r"^(tax)?(invoice|receipt|rechnung|facture|factura|fattura|fatura|factuur|faktura|"
    r"creditnote|statement|statementofaccount|kvitto|kvittering|invoicesummary|proforma|"
    r"monthlyinvoice|invoicedetail|summaryofcharges|fakturavat|inv)",
)
_NOT_NAME = re.compile(
    r"^(page|seite|blad|p\.?\d|\[?p\d|\d+\s*/\s*\d+|subject|date|datum|hi\b|hello|hey\b|dear|"
    r"bonjour|hola|olá|guten|good (morning|afternoon)|sehr geehrte|thank|thanks|best\b|"
    r"kind regards|regards|cordialement|un saludo|viele grüße|abraço|cheers|\*|\[|~|=|-|\+|\||'|"
    r"line items|your\b|sessão|summary|bill to|customer|client|item|description|quick summary|"
    r"please|as promised|our invoice|attached|note|total|plan\b|receipt for|order\b)",
    re.I,
)
_SIGN_OFF = re.compile(
    r"^(best|kind regards|regards|thanks!?|cheers|cordialement|un saludo|"
    r"viele grüße|abraço|warm regards|best regards)[,!]?\s*",
    re.I,
)
_EMAIL = re.compile(
    r"^\s*(subject|from|hi|hello|hey|dear|bonjour|hola|olá|guten tag|good "
    r"afternoon)\b",
    re.I | re.M,
)


def _doc_word(text: str) -> bool:
    squashed = re.sub(r"[\W_]+", "", text.lower().replace("0", "o").replace("1", "l"))
    squashed = squashed.replace("lnvolce", "invoice").replace("lnvoice", "invoice")
    return bool(_DOC_WORDS.match(squashed))


def _name_like(part: str) -> bool:
    part = re.sub(r"\s#\d+\b", "", part).strip()
    if len(part) < 3 or part.startswith(".") or "?" in part or "@" in part:
        return False
    if _NOT_NAME.match(part) or _doc_word(part):
        return False
    if ":" in part or re.search(r"[$€£¥]|\d[.,]\d\d", part):
        return False
    return sum(c.isdigit() for c in part) <= 2 and bool(re.search(r"[^\W\d_]{3}", part))


_MONEY_LINE = re.compile(r"\d[.,]\d\d\b|[$€£¥]\s?\d|\d\s?(€|kr)\b")


def _vendor(doc: str, profile: SimProfile, dice: Dice) -> str:
    careful = dice.chance(profile.careful_total)
    lines = [ln.strip() for ln in doc.splitlines() if ln.strip()]
    if careful:
        for match in _VENDOR_LABEL.finditer(doc):
            line = doc[doc.rfind("\n", 0, match.start()) + 1 : doc.find("\n", match.end())]
            if re.search(r"not the seller|not an invoice|buyer|your company", line, re.I):
                continue
            name = match.group("name").strip(" .:")
            if not _doc_word(name) and re.search(r"[^\W\d_]{3}", name):
                return _tidy(name, profile)
        if _EMAIL.search(doc) and lines:
            last = _SIGN_OFF.sub("", lines[-1]).strip()
            last = re.split(r"\s[—–-]\s|^[—–-]\s*", last)[-1].strip()
            if _name_like(last) and len(last.split()) >= 2:
                return _tidy(last, profile)
    for line in lines:
        if careful and ("your company" in line.lower() or _MONEY_LINE.search(line)):
            continue  # the buyer, or an item line
        for part in re.split(r"\s[—–|·]\s|\s{3,}|\t", line):
            part = re.sub(r"^(fa\.|\[p\d\]|\d/\d)\s*", "", part.strip(), flags=re.I)
            label, colon, value = part.partition(":")
            if colon and _doc_word(label) and _name_like(value):
                part = value
            if _name_like(part):
                return _tidy(part, profile)
            if not careful and part:
                return _tidy(part, profile)  # hasty: whatever heads the document
    return _tidy(lines[0], profile) if lines else ""


def _ocr_letter(match: re.Match[str]) -> str:
    before, digit, after = match.group(1), match.group(2), match.group(3)
    vowels = "aeiouyAEIOUY"
    if digit == "0":
        letter = "o"
    elif before not in vowels and after not in vowels:
        letter = "i"
    else:
        letter = "l"
    return before + letter + after


def _tidy(name: str, profile: SimProfile) -> str:
    legal = r"(?:Lda|Inc|Ltd|LLC|S\.?A|S\.?L|Co|GmbH)\.?"
    name = re.split(
        rf"\s*←|\s<|\s\((?!Pty\))|,(?!\s*{legal}(?:$|[\s,]))|"
        r"(?<!\b(?:Co|Sp|St|Fa))\.\s+(?=[A-Z][a-z])|\s[—–|·]\s|\s#\d|"
        r"\s{2,}(?=[A-Z][a-z]|\d)",
        name,
    )[0]
    dotted = name.strip(" ;:").endswith(".") and re.search(rf"\b{legal}$", name.strip(" ;:"))
    name = name.strip(" .:;") + ("." if dotted else "")
    if profile.numbers > 0.9:  # a large model repairs scan damage and prints names nicely
        if not re.search(r"[a-z]", re.sub(r"\b(e\.K|s\.r\.l|d\.o\.o)\.?", "", name)):
            keep = {"LLC", "AB", "KG", "AG", "AS", "SA", "BV", "LTD", "IT", "HVAC", "B&B"}
            name = " ".join(w if w in keep else w.capitalize() for w in name.split())
        for _ in range(2):  # overlapping damage such as "R00M"
            name = re.sub(r"([^\W\d_])([01])([^\W\d_]?)", _ocr_letter, name)
        name = re.sub(r"(^|\s)0(?=[^\W\d_])", r"\1O", name)
        if re.fullmatch(r"(?:\w ){2,}\w", name):
            name = name.replace(" ", "")
        name = re.sub(r"\s{2,}", " ", name)
    return name.strip()


def extraction(prompt: Prompt, profile: SimProfile, dice: Dice, json_mode: bool) -> str:
    doc = payload(prompt.user, "invoice|document|receipt|text|input")
    if re.search(r"(note to ai|ignore previous instructions)", doc, re.I) and dice.chance(
        profile.injection_resistance
    ):
        doc = re.sub(r"[^\n]*(note to ai|ignore previous instructions)[^\n]*", " ", doc, flags=re.I)
    careful_ocr = dice.chance(profile.numbers)
    readable = _ocr_numbers(doc) if careful_ocr else doc
    eu_aware = dice.chance(profile.numbers)
    fields: dict[str, Any] = {
        "vendor": _vendor(doc, profile, dice),
        "date": _date(doc, profile, dice),
        "total": _total(readable, profile, dice, eu_aware),
        "currency": _currency(doc, profile, dice),
    }
    if fields["total"] is not None and fields["total"] == int(fields["total"]):
        fields["total"] = int(fields["total"]) if fields["currency"] == "JPY" else fields["total"]
    hard = 0.03 * (len(doc) > 450) + 0.03 * bool(re.search(r"credit|statement|page", doc, re.I))
    if dice.slip(0.5 * profile.base_error + hard):
        key = dice.choice(("vendor", "date", "total"))
        if key == "total" and isinstance(fields["total"], (int, float)):
            fields["total"] = round(fields["total"] * dice.choice((0.9, 1.1, 0.1)), 2)
        elif key == "date" and fields["date"]:
            fields["date"] = fields["date"][:8] + "01"
        elif key == "vendor" and fields["vendor"]:
            fields["vendor"] = fields["vendor"].split(" ")[0]
    wants_json = (
        json_mode or "json" in prompt.instructions or any(a.startswith("{") for a in prompt.answers)
    )
    if wants_json:
        return to_json(fields)
    if dice.chance(1 - profile.free_form):
        return to_json(fields)  # even unasked, most models answer extraction with JSON
    return "\n".join(f"{k.capitalize()}: {v}" for k, v in fields.items())

