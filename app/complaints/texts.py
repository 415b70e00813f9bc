"""What complainants read and hear about their complaint, in four languages."""

from __future__ import annotations

from typing import Any

STATUS = {
    "new": {"en": "received", "it": "ricevuto", "pl": "przyjęta", "zh": "已收到"},
    "acknowledged": {
        "en": "acknowledged",
        "it": "preso in carico",
        "pl": "potwierdzona",
        "zh": "已确认受理",
    },
    "in_progress": {
        "en": "being handled",
        "it": "in lavorazione",
        "pl": "w trakcie rozpatrywania",
        "zh": "处理中",
    },
    "waiting_for_customer": {
        "en": "waiting for information from you",
        "it": "in attesa di informazioni da te",
        "pl": "oczekuje na informacje od Ciebie",
        "zh": "等待您提供信息",
    },
    "resolved": {"en": "resolved", "it": "risolto", "pl": "rozpatrzona", "zh": "已解决"},
    "closed": {"en": "closed", "it": "chiuso", "pl": "zamknięta", "zh": "已结案"},
}

RECEIVED = {
    "en": "{company}: we received your complaint {reference}. We will reply by {due}. To check it, "
    "use this reference and this phone number on our website or complaints line.",
    "it": "{company}: abbiamo ricevuto il tuo reclamo {reference}. Ti risponderemo entro il {due}. "
    "Per verificarne lo stato usa questo riferimento e questo numero sul nostro sito o sulla linea "
    "reclami.",
    "pl": "{company}: otrzymaliśmy Twoją reklamację {reference}. Odpowiemy do {due}. Aby sprawdzić "
    "jej status, użyj tego numeru referencyjnego i tego numeru telefonu na naszej stronie lub "
    "linii reklamacji.",
    "zh": "{company}：我们已收到您的投诉{reference}。我们将在{due}之前答复您。如需查询，请在我们的网站或投诉专线使用此编号和此电话号码。",
}

CHANGED = {
    "en": "{company}: your complaint {reference} is now {status}.",
    "it": "{company}: il tuo reclamo {reference} ora è {status}.",
    "pl": "{company}: status Twojej reklamacji {reference}: {status}.",
    "zh": "{company}：您的投诉{reference}当前状态：{status}。",
}

NOTE = {
    "en": "{company}, about your complaint {reference}: {text}",
    "it": "{company}, sul tuo reclamo {reference}: {text}",
    "pl": "{company}, w sprawie reklamacji {reference}: {text}",
    "zh": "{company}，关于您的投诉{reference}：{text}",
}

SUBJECT = {
    "en": "Your complaint {reference}",
    "it": "Il tuo reclamo {reference}",
    "pl": "Twoja reklamacja {reference}",
    "zh": "您的投诉{reference}",
}

REPLY_BY = {
    "en": "We will reply by {due}.",
    "it": "Ti risponderemo entro il {due}.",
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
    "it": "(chi ha chiamato ha scelto questa categoria ma non ha lasciato un messaggio: richiamarlo per raccogliere il reclamo)",
    "pl": "(dzwoniący wybrał tę kategorię, ale nie zostawił wiadomości: oddzwonić, aby przyjąć reklamację)",
    "zh": "（来电者选择了此类别，但没有留言：请回电记录投诉内容）",
}

#: The internal note on a complaint whose recording Twilio could not transcribe.
NOT_TRANSCRIBED = (
    "Twilio could not transcribe the recorded message ({seconds} s): listen to the recording."
)


def pick(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale) or texts["en"]


#: The complaints page's own words (the same keys in every language; a test checks).
PAGE: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Complaints",
        "intro": "Tell us what went wrong. You get a reference at once, and a reply within {days} business days.",
        "file_title": "Make a complaint",
        "phone_label": "Your phone number",
        "email_label": "Your email (optional)",
        "category_label": "What is it about?",
        "text_label": "What happened",
        "call_reference_label": "Reference of one of our calls (optional)",
        "file_button": "Send the complaint",
        "filed": "Thank you. Your complaint reference is {reference}. We will reply by {due}. We have sent the reference to your phone.",
        "status_title": "Check a complaint",
        "reference_label": "Complaint reference",
        "status_button": "Check the status",
        "status": "Complaint {reference}: {status}.",
        "not_found": "We found no complaint with this reference and phone number.",
        "bad_characters": "“{label}” contains invisible control characters, often left by copying from another program. Please type it again.",
        "too_many": "Too many requests from here. Please try again in a few minutes.",
        "country_label": "Your country",
        "errors": {
            "phone": "That does not look like a phone number. Use digits, with the country code.",
            "text": "Please tell us what happened (at most 5,000 characters).",
            "email": "That is not an email address.",
            "category": "Please pick what it is about from the list.",
            "call_reference": "The reference of one of our calls has 6 digits.",
        },
        "categories": {
            "payments": "Payments",
            "cards": "Cards",
            "account_access": "Access to your account",
            "verification_calls": "A call from us",
            "fraud_scam": "Fraud or a scam",
            "other": "Something else",
        },
    },
    "it": {
        "title": "Reclami",
        "intro": "Raccontaci che cosa non è andato. Ricevi subito un riferimento e una risposta entro {days} giorni lavorativi.",
        "file_title": "Fai un reclamo",
        "phone_label": "Il tuo numero di telefono",
        "email_label": "La tua email (facoltativa)",
        "category_label": "Di che cosa si tratta?",
        "text_label": "Che cosa è successo",
        "call_reference_label": "Riferimento di una nostra chiamata (facoltativo)",
        "file_button": "Invia il reclamo",
        "filed": "Grazie. Il riferimento del tuo reclamo è {reference}. Ti risponderemo entro il {due}. Ti abbiamo inviato il riferimento sul telefono.",
        "status_title": "Verifica un reclamo",
        "reference_label": "Riferimento del reclamo",
        "status_button": "Verifica lo stato",
        "status": "Reclamo {reference}: {status}.",
        "not_found": "Non troviamo nessun reclamo con questo riferimento e questo numero di telefono.",
        "bad_characters": "«{label}» contiene caratteri di controllo invisibili, spesso lasciati copiando da un altro programma. Scrivilo di nuovo.",
        "too_many": "Troppe richieste da qui. Riprova tra qualche minuto.",
        "country_label": "Il tuo paese",
        "errors": {
            "phone": "Non sembra un numero di telefono. Usa le cifre, con il prefisso del paese.",
            "text": "Raccontaci che cosa è successo (al massimo 5.000 caratteri).",
            "email": "Questo non è un indirizzo email.",
            "category": "Scegli dall'elenco di che cosa si tratta.",
            "call_reference": "Il riferimento di una nostra chiamata ha 6 cifre.",
        },
        "categories": {
            "payments": "Pagamenti",
            "cards": "Carte",
            "account_access": "Accesso al conto",
            "verification_calls": "Una nostra chiamata",
            "fraud_scam": "Frode o truffa",
            "other": "Altro",
        },
    },
    "pl": {
        "title": "Reklamacje",
        "intro": "Opisz, co poszło nie tak. Od razu otrzymasz numer reklamacji, a odpowiedź w ciągu {days} dni roboczych.",
        "file_title": "Złóż reklamację",
        "phone_label": "Twój numer telefonu",
        "email_label": "Twój e-mail (opcjonalnie)",
        "category_label": "Czego dotyczy?",
        "text_label": "Co się stało",
        "call_reference_label": "Numer referencyjny naszego połączenia (opcjonalnie)",
        "file_button": "Wyślij reklamację",
        "filed": "Dziękujemy. Numer Twojej reklamacji to {reference}. Odpowiemy do {due}. Wysłaliśmy numer na Twój telefon.",
        "status_title": "Sprawdź reklamację",
        "reference_label": "Numer reklamacji",
        "status_button": "Sprawdź status",
        "status": "Reklamacja {reference}: {status}.",
        "not_found": "Nie znaleźliśmy reklamacji o tym numerze i tym numerze telefonu.",
        "bad_characters": "Pole „{label}” zawiera niewidoczne znaki sterujące, często pozostawione przy kopiowaniu z innego programu. Wpisz je ponownie.",
        "too_many": "Zbyt wiele zapytań z tego miejsca. Spróbuj ponownie za kilka minut.",
        "country_label": "Twój kraj",
        "errors": {
            "phone": "To nie wygląda na numer telefonu. Użyj cyfr z numerem kierunkowym kraju.",
            "text": "Opisz, co się stało (najwyżej 5000 znaków).",
            "email": "To nie jest adres e-mail.",
            "category": "Wybierz z listy, czego dotyczy reklamacja.",
            "call_reference": "Numer referencyjny naszego połączenia ma 6 cyfr.",
        },
        "categories": {
            "payments": "Płatności",
            "cards": "Karty",
            "account_access": "Dostęp do konta",
            "verification_calls": "Połączenie od nas",
            "fraud_scam": "Oszustwo",
            "other": "Coś innego",
        },
    },
    "zh": {
        "title": "投诉",
        "intro": "请告诉我们出了什么问题。您会立即获得投诉编号，并在{days}个工作日内得到答复。",
        "file_title": "提交投诉",
        "phone_label": "您的电话号码",
        "email_label": "您的电子邮箱（可选）",
        "category_label": "投诉类别",
        "text_label": "发生了什么",
        "call_reference_label": "我们来电的参考号（可选）",
        "file_button": "提交投诉",
        "filed": "谢谢。您的投诉编号是{reference}。我们将在{due}之前答复您。编号已发送到您的手机。",
        "status_title": "查询投诉",
        "reference_label": "投诉编号",
        "status_button": "查询状态",
        "status": "投诉{reference}：{status}。",
        "not_found": "没有找到与此编号和电话号码对应的投诉。",
        "bad_characters": "“{label}”中含有不可见的控制字符（通常是从其他程序复制时带入的）。请重新输入。",
        "too_many": "此处的请求过多，请几分钟后再试。",
        "country_label": "您所在的国家或地区",
        "errors": {
            "phone": "这看起来不是电话号码。请输入数字，并带上国家区号。",
            "text": "请告诉我们发生了什么（最多5000个字符）。",
            "email": "这不是有效的电子邮箱地址。",
            "category": "请从列表中选择投诉类别。",
            "call_reference": "我们来电的参考号为6位数字。",
        },
        "categories": {
            "payments": "付款",
            "cards": "银行卡",
            "account_access": "账户登录",
            "verification_calls": "我们的来电",
            "fraud_scam": "欺诈或诈骗",
            "other": "其他",
        },
    },
}
