"""What the lookup, the reference check and a filed report say, in four languages: the API, the
phone line and the page give the same answers. (The page's own words are gettext texts, in
app/translations.)

In reviewed code, not in call_flows/: the advice names the secrets we never ask for.
"""

from __future__ import annotations

ADVICE = {
    "en": "We will never ask for your password, PIN or a code sent by SMS. If in doubt, hang up "
    "and call the number on our website or on your card.",
    "it": "Non Le chiederemo mai password, PIN o codici ricevuti via SMS. Se ha dubbi, riattacchi "
    "e chiami il numero indicato sul nostro sito o sulla Sua carta.",
    "pl": "Nigdy nie poprosimy o hasło, PIN ani kod z SMS-a. W razie wątpliwości prosimy się "
    "rozłączyć i zadzwonić na numer podany na naszej stronie lub na karcie.",
    "zh": "我们绝不会索要您的密码、PIN码或短信验证码。如有疑问，请挂断电话，然后拨打我们官网上或您银行卡上的电话号码。",
}

# status -> language -> text; {label}, {since}, {until} are filled in.
LOOKUP = {
    "calls_you": {
        "en": "Yes: {label} is one of our numbers, in use since {since}. We may call you from it. "
        "To be sure a call is really from us, check the call's reference below, or hang up and "
        "call us back.",
        "it": "Sì: {label} è un nostro numero, in uso dal {since}. Potremmo chiamarLa da questo "
        "numero. Per avere la certezza che una chiamata sia davvero nostra, verifichi qui sotto "
        "il riferimento della chiamata, oppure riattacchi e ci richiami.",
        "pl": "Tak: {label} to nasz numer, używany od {since}. Możemy z niego do Państwa dzwonić. "
        "Aby mieć pewność, że połączenie było od nas, prosimy sprawdzić poniżej numer "
        "referencyjny rozmowy albo rozłączyć się i oddzwonić do nas.",
        "zh": "是的，这是我们的号码，用于{label}，自{since}起启用。我们可能会用这个号码给您打电话。"
        "如需确认来电确实来自我们，请在下方核对通话编号，或挂断后主动致电我们。",
    },
    "never_calls": {
        "en": "This is our number for {label}, but we never make calls from it. A call showing "
        "this number is not from us: someone is faking it.",
        "it": "Questo è il nostro numero per {label}, ma non lo usiamo mai per chiamare. Una "
        "chiamata che mostra questo numero non è nostra: qualcuno lo sta falsificando.",
        "pl": "To nasz numer ({label}), ale nigdy nie dzwonimy z niego. Połączenie z tego numeru "
        "nie pochodzi od nas: ktoś się pod niego podszywa.",
        "zh": "这是我们用于{label}的号码，但我们从不用它打电话。显示此号码的来电并非来自我们，"
        "而是有人冒用了这个号码。",
    },
    "retired": {
        "en": "This number was ours until {until}; it no longer calls anyone. A call from it now "
        "is not from us.",
        "it": "Questo numero è stato nostro fino al {until}; ora non chiama più nessuno. Una "
        "chiamata da questo numero oggi non è nostra.",
        "pl": "Ten numer był nasz do {until}; już z niego nie dzwonimy. Połączenie z niego teraz "
        "nie pochodzi od nas.",
        "zh": "此号码在{until}之前属于我们，现已停用，不会再拨打任何电话。现在显示此号码的来电并非来自我们。",
    },
    "not_ours": {
        "en": "This is not one of our numbers. If someone called you from it saying they are "
        "{company}, it was not us: hang up, and please report the call.",
        "it": "Questo non è un nostro numero. Se qualcuno Le ha telefonato da qui dicendo di essere "
        "{company}, non eravamo noi: riattacchi e segnali la chiamata.",
        "pl": "To nie jest nasz numer. Jeśli ktoś dzwonił z niego i przedstawiał się jako {company}, to "
        "nie byliśmy my: prosimy się rozłączyć i zgłosić to połączenie.",
        "zh": "这不是我们的号码。如果有人用这个号码给您打电话并自称是{company}，那不是我们。请挂断电话，并举报此来电。",
    },
    # No valid number, or one that could be a number of several countries, one of them ours.
    "unreadable": {
        "en": "We could not read this number. Please type it with its country code, as in "
        "{example}.",
        "it": "Non riusciamo a leggere questo numero. Lo scriva con il prefisso del paese, come "
        "in {example}.",
        "pl": "Nie udało nam się odczytać tego numeru. Prosimy wpisać go z numerem kierunkowym "
        "kraju, jak w {example}.",
        "zh": "我们无法识别这个号码。请连同国家区号一起输入，例如 {example}。",
    },
}

REFERENCE = {
    True: {
        "en": "Yes: we called this phone number with this reference in the last 24 hours.",
        "it": "Sì: nelle ultime 24 ore abbiamo chiamato questo numero con questo riferimento.",
        "pl": "Tak: w ciągu ostatnich 24 godzin dzwoniliśmy na ten numer z tym numerem "
        "referencyjnym.",
        "zh": "是的，过去24小时内，我们给这个电话号码打过电话，通话编号与此相符。",
    },
    False: {
        "en": "No: we did not call this phone number with this reference in the last 24 hours. "
        "If someone gave you this reference, the call was not from us.",
        "it": "No: nelle ultime 24 ore non abbiamo chiamato questo numero con questo riferimento. "
        "Se qualcuno Le ha dato questo riferimento, la chiamata non era nostra.",
        "pl": "Nie: w ciągu ostatnich 24 godzin nie dzwoniliśmy na ten numer z tym numerem "
        "referencyjnym. Jeśli ktoś podał Państwu ten numer, połączenie nie było od nas.",
        "zh": "不是。过去24小时内，我们没有给这个电话号码打过编号相符的电话。如果有人向您提供了这个编号，那通电话并非来自我们。",
    },
}

REPORTED = {
    "en": "Thank you. Your report has the reference {reference}. Our fraud team reviews every "
    "report.",
    "it": "Grazie. La Sua segnalazione ha il riferimento {reference}. Il nostro team antifrode "
    "esamina ogni segnalazione.",
    "pl": "Dziękujemy. Zgłoszenie otrzymało numer {reference}. Nasz zespół ds. przeciwdziałania "
    "oszustwom sprawdza każde zgłoszenie.",
    "zh": "谢谢。您的举报编号为{reference}。我们的反欺诈团队会审核每一份举报。",
}


def pick(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale) or texts["en"]
