"""The triage vocabulary of the simulated models: labels, cue words, confusions, free wording.

Data only (the logic is in ``_triage.py``). The cue words are regular expressions, matched
case-insensitively against the ticket text; editing them changes every simulated triage answer.
"""

from __future__ import annotations

INTENTS = (
    "billing",
    "refund_request",
    "technical_issue",
    "shipping_delivery",
    "cancellation",
    "product_question",
    "account_access",
    "complaint",
    "security_fraud",
    "feedback",
)
PRIORITIES = ("low", "medium", "high", "urgent")

# Cue words per intent: (pattern, weight, kind) where kind is "core" (every model knows it),
# "rare" (known with the profile's rare_words chance) or "foreign" (its multilingual chance).
LEXICON: dict[str, list[tuple[str, float, str]]] = {
    "billing": [
        (r"\bbill(ed|ing|s)?\b|\binvoices?\b|\bcharged\b|\breceipt\b|\bstatement\b", 2, "core"),
        (r"\bfee\b|\bprice\b|\bcard on file\b|\bpayment\b|\bcharge\b|\bowe\b|\bpaid\b", 1, "core"),
        (
            r"\bvat\b|\btax\b|\bhst\b|prorat|\bseats\b|\brenewal\b|\bdiscounted\b|\brate\b",
            1,
            "rare",
        ),
        (r"factura|rechnung|facture|cobraron|abgebucht|mensualidad|montant|pagu[ée]", 2, "foreign"),
    ],
    "refund_request": [
        (r"\brefunds?\b|money back|\breimburs", 3, "core"),
        (
            r"\brefnd\b|\b(fee|price|money) back\b|\breturn (it|them)\b|\breturn it for\b|"
            r"for her money|\bsent back\b",
            3,
            "rare",
        ),
        (r"reembolso|devu[ée]lva|erstattung|rembours|devolu[çc]", 3, "foreign"),
    ],
    "technical_issue": [
        (
            r"\bcrash(es|ing)?\b|\berror\b|\bbug\b|not working|doesn'?t work|\bwon'?t (load|open)|"
            r"\bkeeps? crashing\b",
            3,
            "core",
        ),
        (r"\bapp\b|\bfails?\b|\bfailing\b|\bupdate\b", 1, "core"),
        (
            r"\bsync\b|\boffline\b|\bblank\b|greys? out|\blags?\b|stuck at \d|empty file|"
            r"logs? me out|\b50\d\b|\b429\b|firmware|\bapi\b|dashboard|iframe|\bexport\b|"
            r"\bcron\b|never show up|can'?t change it",
            2,
            "rare",
        ),
        (
            r"no abre|pantalla|se crashea|no funciona|funktioniert nicht|kamera|schwarzes",
            3,
            "foreign",
        ),
    ],
    "shipping_delivery": [
        (
            r"\bdeliver(y|ed)?\b|\bshipping\b|\bship\b|\bpackage\b|\bparcel\b|\btracking\b|"
            r"\bcourier\b|\barrived?\b|where is my (order|package|parcel)",
            2,
            "core",
        ),
        (
            r"\bcustoms\b|\bexpress\b|wrong address|\bbox was\b|order came|sorting facility|"
            r"hasn'?t arrived|\blate again\b|\bthe order is still\b",
            2,
            "rare",
        ),
        (
            r"\bpedido\b|lleg[óo]|lieferung|sendung|\bpaket\b|encomenda|\bentrega\b|chegou",
            2,
            "foreign",
        ),
    ],
    "cancellation": [
        (r"(?<!-)\bcancel(l?ing|led|lation)?\b|\bterminate\b|\bunsubscribe\b", 3, "core"),
        (
            r"stop my subscri|don'?t want it renew|\bfreeze\b|\bpause\b|move to another vendor|"
            r"close the account|end the [\w ]{0,20}contract|stop all further",
            3,
            "rare",
        ),
        (r"cancelar|k[üu]ndig|r[ée]silier|annuler", 3, "foreign"),
    ],
    "product_question": [
        (
            r"\bcompatible\b|difference between|\bwarranty\b|\bdoes the\b|\bdo you (offer|ship)\b|"
            r"\bcome with\b",
            2,
            "core",
        ),
        (
            r"true to size|volume pricing|parental controls|\bwork on\b|tested by|better for|"
            r"before we sign|webhooks|comes in\b|thinking of getting|not buying yet|"
            r"\bregion\b",
            2,
            "rare",
        ),
        (
            r"¿el|est-ce que la|können sie mir sagen|lieferbar|incluye|quick question|garantie",
            2,
            "foreign",
        ),
    ],
    "account_access": [
        (
            r"\blog ?in+\b|\bsign in\b|\bpassword\b|\blocked out\b|two-factor|\b2fa\b|"
            r"get back into my account",
            3,
            "core",
        ),
        (
            r"reset (email|link)|verification code|\bsso\b|\bsaml\b|owner rights|"
            r"transfer ownership|session expired|acc?ount not found|email i log in with|"
            r"log in myself",
            3,
            "rare",
        ),
        (
            r"entrar a mi cuenta|compte est bloqu|in mein konto|contraseña|code de vérification",
            3,
            "foreign",
        ),
    ],
    "complaint": [
        (
            r"unacceptable|terrible|\bworst\b|disappoint|\brude\b|complain|frustrat|\bawful\b|"
            r"ridiculous",
            3,
            "core",
        ),
        (
            r"misleading|lawyer|condescending|discriminat|hung up|on hold|do better|wasteful|"
            r"cool cool|really feeling|consumer authority|refused to honou?r|escalated to a "
            r"manager",
            3,
            "rare",
        ),
        (r"p[ée]ssim[oa]|nunca más|reicht es|dritte mal|ninguém me avisou", 3, "foreign"),
    ],
    "security_fraud": [
        (
            r"\bfraud\b|\bhack(ed)?\b|phishing|suspicious|unauthori[sz]ed|\bstolen\b|\bscam\b|"
            r"never made",
            4,
            "core",
        ),
        (
            r"someone (changed|else)|compromis|\bleaked\b|vulnerabilit|device i don'?t own|"
            r"asking for my password|is that really you|don'?t recognise|sketchy|"
            r"claiming to be|\bcvv\b|login from",
            4,
            "rare",
        ),
        (
            r"alguien entr[óo]|nie bestellt|hackeou|utilisé ma carte|eu não fiz|code sms|"
            r"n'ai pas faites",
            4,
            "foreign",
        ),
    ],
    "feedback": [
        (
            r"\bsuggest(ion)?\b|feature request|would be (cool|nice|great)|\bfantastic\b|"
            r"well done|\blove\b|shoutout",
            3,
            "core",
        ),
        (
            r"dark mode|observation|keep it up|no issue|just wanted to (say|tell)|"
            r"otherwise service is fine|wishlist|super kind|finally a\b",
            3,
            "rare",
        ),
        (r"me encanta|danke|ótimo|übersichtlicher", 3, "foreign"),
    ],
}
# what a confused model says instead, when no runner-up has any cue
NEIGHBOURS = {
    "billing": ("refund_request", "cancellation"),
    "refund_request": ("billing", "complaint"),
    "technical_issue": ("account_access", "complaint"),
    "shipping_delivery": ("complaint", "refund_request"),
    "cancellation": ("billing", "refund_request"),
    "product_question": ("feedback", "technical_issue"),
    "account_access": ("technical_issue", "security_fraud"),
    "complaint": ("feedback", "refund_request"),
    "security_fraud": ("account_access", "billing"),
    "feedback": ("complaint", "product_question"),
}
FREE_WORDING = {
    "billing": ("Billing issue", "This looks like a billing question.", "Payment/billing"),
    "refund_request": ("Refund", "The customer wants a refund.", "Refund (return)"),
    "technical_issue": ("Bug report", "Technical problem with the app.", "Tech support"),
    "shipping_delivery": ("Shipping", "Delivery problem", "Order delivery issue"),
    "cancellation": (
        "Cancel subscription",
        "The customer wants to cancel.",
        "Cancellation request",
    ),
    "product_question": ("Pre-sales question", "General product inquiry", "Product info"),
    "account_access": ("Login problem", "Account / login issue", "Password reset"),
    "complaint": ("Unhappy customer", "A complaint about the service.", "Negative experience"),
    "security_fraud": ("Fraud", "Possible account compromise.", "Security"),
    "feedback": ("Positive feedback", "Product suggestion", "Praise"),
}
