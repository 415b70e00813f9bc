"""What complainants read and hear about their complaint (texts, e-mails, the phone line), in four
languages. (The complaints page's own words are gettext texts, in app/translations.)"""

from __future__ import annotations

STATUS = {
    "new": {"en": "received", "it": "ricevuto", "pl": "przyjęta", "zh": "已收到"},
    "acknowledged": {
        "en": "acknowledged",
        "it": "preso in carico",
        "pl": "potwierdzona",
        "zh": "已受理",
    },
    "in_progress": {
        "en": "being handled",
        "it": "in lavorazione",
        "pl": "w trakcie rozpatrywania",
        "zh": "处理中",
    },
    "waiting_for_customer": {
        "en": "waiting for information from you",
        "it": "in attesa di informazioni da parte Sua",
        "pl": "oczekuje na informacje od Państwa",
        "zh": "等待您提供信息",
    },
    "resolved": {"en": "resolved", "it": "risolto", "pl": "rozpatrzona", "zh": "已解决"},
    "closed": {"en": "closed", "it": "chiuso", "pl": "zamknięta", "zh": "已结案"},
}

RECEIVED = {
    "en": "{company}: we received your complaint {reference}. We will reply by {due}. To check it, "
    "use this reference and this phone number on our website or complaints line.",
    "it": "{company}: abbiamo ricevuto il Suo reclamo {reference}. Le risponderemo entro il {due}. "
    "Per verificarne lo stato usi questo riferimento e questo numero sul nostro sito o sulla linea "
    "reclami.",
    "pl": "{company}: otrzymaliśmy reklamację {reference}. Odpowiemy do {due}. Aby sprawdzić jej "
    "status, prosimy użyć tego numeru referencyjnego i tego numeru telefonu na naszej stronie lub "
    "linii reklamacji.",
    "zh": "{company}：我们已收到您的投诉，编号{reference}。我们将在{due}之前答复您。如需查询进度，请凭此编号和本手机号码，通过我们的网站或投诉热线查询。",
}

CHANGED = {
    "en": "{company}: your complaint {reference} is now {status}.",
    "it": "{company}: il Suo reclamo {reference} ora è {status}.",
    "pl": "{company}: status reklamacji {reference}: {status}.",
    "zh": "{company}：您编号为{reference}的投诉当前状态为：{status}。",
}

NOTE = {
    "en": "{company}, about your complaint {reference}: {text}",
    "it": "{company}, sul Suo reclamo {reference}: {text}",
    "pl": "{company}, w sprawie reklamacji {reference}: {text}",
    "zh": "{company}：关于您的投诉{reference}，{text}",
}

SUBJECT = {
    "en": "Your complaint {reference}",
    "it": "Il Suo reclamo {reference}",
    "pl": "Reklamacja {reference}",
    "zh": "您的投诉{reference}",
}

REPLY_BY = {
    "en": "We will reply by {due}.",
    "it": "Le risponderemo entro il {due}.",
    "pl": "Odpowiemy do {due}.",
    "zh": "我们将在{due}之前答复您。",
}

PHONE_TEXT = {
    "en": "(a recorded message of {seconds} seconds)",
    "it": "(un messaggio registrato di {seconds} secondi)",
    "pl": "(nagrana wiadomość, {seconds} s)",
    "zh": "（一段{seconds}秒的录音留言）",
}

#: A complaint from a caller who chose a category on the line but said nothing, twice.
NO_MESSAGE_TEXT = {
    "en": "(the caller chose this category but left no message: call them back to take the complaint)",
    "it": "(chi ha chiamato ha scelto questa categoria ma non ha lasciato un messaggio: richiamare questo numero per raccogliere il reclamo)",
    "pl": "(osoba dzwoniąca wybrała tę kategorię, ale nie zostawiła wiadomości: oddzwonić, aby przyjąć reklamację)",
    "zh": "（来电者选择了此类别，但没有留言：请回电记录投诉内容）",
}

#: The internal note on a complaint whose recording Twilio could not transcribe.
NOT_TRANSCRIBED = (
    "Twilio could not transcribe the recorded message ({seconds} s): listen to the recording."
)


def pick(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale) or texts["en"]


SATISFACTION = {
    "en": "{company}: your complaint {reference} is closed. How satisfied are you with how we "
    "handled it? Answer from 1 to 5 here: {link}",
    "it": "{company}: il Suo reclamo {reference} è chiuso. Quanto è stata soddisfacente la nostra "
    "gestione? Risponda da 1 a 5 qui: {link}",
    "pl": "{company}: reklamacja {reference} została zamknięta. Jak oceniają Państwo jej "
    "rozpatrzenie? Prosimy o ocenę od 1 do 5 tutaj: {link}",
    "zh": "{company}：您的投诉{reference}已结案。您对我们的处理是否满意？请点击链接打1到5分：{link}",
}
