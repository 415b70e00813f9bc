"""What the lookup, the reference check and the report page say, in four languages.

In reviewed code, not in call_flows/: the advice names the secrets we never ask for.
"""

from __future__ import annotations

from typing import Any

ADVICE = {
    "en": "We will never ask for your password, PIN or a code sent by SMS. If in doubt, hang up "
    "and call the number on our website or on your card.",
    "it": "Non ti chiederemo mai password, PIN o codici ricevuti via SMS. Se hai dubbi, riattacca "
    "e chiama il numero indicato sul nostro sito o sulla tua carta.",
    "pl": "Nigdy nie poprosimy o hasło, PIN ani kod z SMS-a. W razie wątpliwości rozłącz się i "
    "zadzwoń na numer podany na naszej stronie lub na karcie.",
    "zh": "我们绝不会索要您的密码、PIN码或短信验证码。如有疑问，请挂断电话，并拨打我们官网或您卡片上的号码。",
}

# status -> language -> text; {label}, {since}, {until} are filled in.
LOOKUP = {
    "calls_you": {
        "en": "Yes: {label} is one of our numbers, in use since {since}. We may call you from it. "
        "To be sure a call is really from us, check the call's reference below, or hang up and "
        "call us back.",
        "it": "Sì: {label} è un nostro numero, in uso dal {since}. Potremmo chiamarti da questo "
        "numero. Per essere sicuro che una chiamata sia davvero nostra, verifica il riferimento "
        "della chiamata qui sotto, oppure riattacca e richiamaci.",
        "pl": "Tak: {label} to nasz numer, używany od {since}. Możemy z niego do Ciebie dzwonić. "
        "Aby mieć pewność, że połączenie było od nas, sprawdź poniżej numer referencyjny "
        "rozmowy albo rozłącz się i oddzwoń do nas.",
        "zh": "是的：{label}是我们的号码，自{since}起使用。我们可能会用这个号码给您打电话。"
        "要确认来电确实来自我们，请在下方核对通话参考号，或挂断后回拨给我们。",
    },
    "never_calls": {
        "en": "This is our number for {label}, but we never make calls from it. A call showing "
        "this number is not from us: someone is faking it.",
        "it": "Questo è il nostro numero per {label}, ma non lo usiamo mai per chiamare. Una "
        "chiamata che mostra questo numero non è nostra: qualcuno lo sta falsificando.",
        "pl": "To nasz numer ({label}), ale nigdy nie dzwonimy z niego. Połączenie z tego numeru "
        "nie pochodzi od nas: ktoś się pod niego podszywa.",
        "zh": "这是我们用于{label}的号码，但我们从不使用它拨出电话。显示此号码的来电并非来自我们："
        "有人在冒用它。",
    },
    "retired": {
        "en": "This number was ours until {until}; it no longer calls anyone. A call from it now "
        "is not from us.",
        "it": "Questo numero è stato nostro fino al {until}; ora non chiama più nessuno. Una "
        "chiamata da questo numero oggi non è nostra.",
        "pl": "Ten numer był nasz do {until}; już z niego nie dzwonimy. Połączenie z niego teraz "
        "nie pochodzi od nas.",
        "zh": "此号码在{until}之前属于我们，现已停止使用，不会再拨打任何电话。现在来自此号码的电话并非我们拨打。",
    },
    "not_ours": {
        "en": "This is not one of our numbers. If someone called you from it saying they are "
        "{company}, it was not us: hang up, and please report the call.",
        "it": "Questo non è un nostro numero. Se qualcuno ti ha chiamato da qui dicendo di essere "
        "{company}, non eravamo noi: riattacca e segnala la chiamata.",
        "pl": "To nie jest nasz numer. Jeśli ktoś dzwonił z niego, podając się za {company}, to "
        "nie byliśmy my: rozłącz się i zgłoś to połączenie.",
        "zh": "这不是我们的号码。如果有人用这个号码给您打电话并自称是{company}，那不是我们：请挂断，并举报此来电。",
    },
    # No valid number, or one that could be a number of several countries, one of them ours.
    "unreadable": {
        "en": "We could not read this number. Please type it with its country code, as in "
        "{example}.",
        "it": "Non riusciamo a leggere questo numero. Scrivilo con il prefisso del paese, come in "
        "{example}.",
        "pl": "Nie udało nam się odczytać tego numeru. Wpisz go z numerem kierunkowym kraju, jak "
        "w {example}.",
        "zh": "我们无法识别这个号码。请连同国家区号一起输入，例如 {example}。",
    },
}

REFERENCE = {
    True: {
        "en": "Yes: we called this phone number with this reference in the last 24 hours.",
        "it": "Sì: nelle ultime 24 ore abbiamo chiamato questo numero con questo riferimento.",
        "pl": "Tak: w ciągu ostatnich 24 godzin dzwoniliśmy na ten numer z tym numerem "
        "referencyjnym.",
        "zh": "是的：过去24小时内，我们以此参考号拨打过这个电话号码。",
    },
    False: {
        "en": "No: we did not call this phone number with this reference in the last 24 hours. "
        "If someone gave you this reference, the call was not from us.",
        "it": "No: nelle ultime 24 ore non abbiamo chiamato questo numero con questo riferimento. "
        "Se qualcuno ti ha dato questo riferimento, la chiamata non era nostra.",
        "pl": "Nie: w ciągu ostatnich 24 godzin nie dzwoniliśmy na ten numer z tym numerem "
        "referencyjnym. Jeśli ktoś podał Ci ten numer, połączenie nie było od nas.",
        "zh": "不是：过去24小时内，我们没有以此参考号拨打过这个电话号码。如果有人向您提供了这个参考号，那通电话并非来自我们。",
    },
}

REPORTED = {
    "en": "Thank you. Your report has the reference {reference}. Our fraud team reviews every "
    "report.",
    "it": "Grazie. La tua segnalazione ha il riferimento {reference}. Il nostro team antifrode "
    "esamina ogni segnalazione.",
    "pl": "Dziękujemy. Twoje zgłoszenie ma numer {reference}. Nasz zespół ds. oszustw sprawdza "
    "każde zgłoszenie.",
    "zh": "谢谢。您的举报编号为{reference}。我们的反欺诈团队会审核每一份举报。",
}


def pick(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale) or texts["en"]


#: The public page's own words. Keys are the same in every language (a test checks).
PAGE: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Is this call really from {company}?",
        "intro": "Scammers can make any number appear on your phone. Check here whether a number "
        "is ours, and whether we really called you.",
        "number_title": "Check a number",
        "number_label": "The number that called you",
        "number_button": "Check the number",
        "reference_title": "Did we call you?",
        "reference_intro": "Our calls give a 6-digit reference near the start. Enter it with your "
        "own phone number.",
        "reference_label": "Reference of the call",
        "phone_label": "Your phone number",
        "reference_button": "Check the call",
        "report_title": "Report a call that pretended to be us",
        "report_number_label": "The number that called you",
        "when_label": "When (optional)",
        "asked_label": "What did they ask for?",
        "description_label": "What happened (optional)",
        "report_button": "Send the report",
        "language": "Language",
        "country_label": "Your country",
        "number_hint": "Type it as your phone shows it, with or without the country code.",
        "read_as": "(read as {number})",
        "bad_when": "Check the date and time: the call must be from the last year, and not in "
        "the future.",
        "bad_number": "That does not look like a phone number. Use digits, with the country code "
        "(for example +39 ...).",
        "bad_reference": "The reference has 6 digits.",
        "bad_characters": "“{label}” contains invisible control characters, often left by "
        "copying from another program. Please type it again.",
        "too_many": "Too many checks from here. Please try again in a few minutes.",
        "asked": {
            "password": "a password",
            "pin": "a PIN",
            "sms_code": "a code sent by SMS",
            "card_details": "card details",
            "move_money": "to move money",
            "install_app": "to install an app",
            "other": "something else",
        },
    },
    "it": {
        "title": "Questa chiamata viene davvero da {company}?",
        "intro": "I truffatori possono far comparire qualsiasi numero sul tuo telefono. Verifica "
        "qui se un numero è nostro e se ti abbiamo chiamato davvero.",
        "number_title": "Verifica un numero",
        "number_label": "Il numero che ti ha chiamato",
        "number_button": "Verifica il numero",
        "reference_title": "Ti abbiamo chiamato noi?",
        "reference_intro": "Le nostre chiamate comunicano all'inizio un riferimento di 6 cifre. "
        "Inseriscilo insieme al tuo numero di telefono.",
        "reference_label": "Riferimento della chiamata",
        "phone_label": "Il tuo numero di telefono",
        "reference_button": "Verifica la chiamata",
        "report_title": "Segnala una chiamata che si è spacciata per noi",
        "report_number_label": "Il numero che ti ha chiamato",
        "when_label": "Quando (facoltativo)",
        "asked_label": "Che cosa ti hanno chiesto?",
        "description_label": "Che cosa è successo (facoltativo)",
        "report_button": "Invia la segnalazione",
        "language": "Lingua",
        "country_label": "Il tuo paese",
        "number_hint": "Scrivilo come lo mostra il tuo telefono, con o senza il prefisso del "
        "paese.",
        "read_as": "(letto come {number})",
        "bad_when": "Controlla data e ora: la chiamata deve essere dell'ultimo anno, e non nel "
        "futuro.",
        "bad_number": "Non sembra un numero di telefono. Usa le cifre, con il prefisso del paese "
        "(per esempio +39 ...).",
        "bad_reference": "Il riferimento ha 6 cifre.",
        "bad_characters": "«{label}» contiene caratteri di controllo invisibili, spesso lasciati "
        "copiando da un altro programma. Scrivilo di nuovo.",
        "too_many": "Troppe verifiche da qui. Riprova tra qualche minuto.",
        "asked": {
            "password": "una password",
            "pin": "un PIN",
            "sms_code": "un codice ricevuto via SMS",
            "card_details": "i dati della carta",
            "move_money": "di spostare denaro",
            "install_app": "di installare un'app",
            "other": "altro",
        },
    },
    "pl": {
        "title": "Czy to połączenie naprawdę jest od {company}?",
        "intro": "Oszuści mogą wyświetlić na Twoim telefonie dowolny numer. Sprawdź tutaj, czy "
        "numer jest nasz i czy naprawdę do Ciebie dzwoniliśmy.",
        "number_title": "Sprawdź numer",
        "number_label": "Numer, z którego dzwoniono",
        "number_button": "Sprawdź numer",
        "reference_title": "Czy to my dzwoniliśmy?",
        "reference_intro": "Na początku naszych rozmów podajemy 6-cyfrowy numer referencyjny. "
        "Wpisz go razem ze swoim numerem telefonu.",
        "reference_label": "Numer referencyjny rozmowy",
        "phone_label": "Twój numer telefonu",
        "reference_button": "Sprawdź rozmowę",
        "report_title": "Zgłoś połączenie, które podszywało się pod nas",
        "report_number_label": "Numer, z którego dzwoniono",
        "when_label": "Kiedy (opcjonalnie)",
        "asked_label": "O co prosili?",
        "description_label": "Co się stało (opcjonalnie)",
        "report_button": "Wyślij zgłoszenie",
        "language": "Język",
        "country_label": "Twój kraj",
        "number_hint": "Wpisz go tak, jak pokazuje go Twój telefon, z numerem kierunkowym kraju "
        "lub bez niego.",
        "read_as": "(odczytany jako {number})",
        "bad_when": "Sprawdź datę i godzinę: połączenie musi pochodzić z ostatniego roku i nie "
        "może być w przyszłości.",
        "bad_number": "To nie wygląda na numer telefonu. Użyj cyfr z numerem kierunkowym kraju "
        "(na przykład +48 ...).",
        "bad_reference": "Numer referencyjny ma 6 cyfr.",
        "bad_characters": "Pole „{label}” zawiera niewidoczne znaki sterujące, często "
        "pozostawione przy kopiowaniu z innego programu. Wpisz je ponownie.",
        "too_many": "Zbyt wiele sprawdzeń z tego miejsca. Spróbuj ponownie za kilka minut.",
        "asked": {
            "password": "hasło",
            "pin": "PIN",
            "sms_code": "kod z SMS-a",
            "card_details": "dane karty",
            "move_money": "przelanie pieniędzy",
            "install_app": "instalację aplikacji",
            "other": "coś innego",
        },
    },
    "zh": {
        "title": "这通电话真的来自{company}吗？",
        "intro": "诈骗者可以让任何号码显示在您的手机上。请在这里核实某个号码是否属于我们，以及我们是否真的给您打过电话。",
        "number_title": "核实号码",
        "number_label": "给您打电话的号码",
        "number_button": "核实号码",
        "reference_title": "是我们给您打的电话吗？",
        "reference_intro": "我们的来电会在开头告知一个6位参考号。请输入该参考号和您自己的电话号码。",
        "reference_label": "通话参考号",
        "phone_label": "您的电话号码",
        "reference_button": "核实来电",
        "report_title": "举报冒充我们的来电",
        "report_number_label": "给您打电话的号码",
        "when_label": "时间（可选）",
        "asked_label": "对方向您索要了什么？",
        "description_label": "发生了什么（可选）",
        "report_button": "提交举报",
        "language": "语言",
        "country_label": "您所在的国家或地区",
        "number_hint": "请按手机上显示的样子输入，带不带国家区号均可。",
        "read_as": "（识别为 {number}）",
        "bad_when": "请检查日期和时间：来电须在过去一年内，且不能是将来的时间。",
        "bad_number": "这看起来不是电话号码。请输入数字，并带上国家区号（例如 +86 ...）。",
        "bad_reference": "参考号为6位数字。",
        "bad_characters": "“{label}”中含有不可见的控制字符（通常是从其他程序复制时带入的）。请重新输入。",
        "too_many": "此处的核实次数过多，请几分钟后再试。",
        "asked": {
            "password": "密码",
            "pin": "PIN码",
            "sms_code": "短信验证码",
            "card_details": "银行卡信息",
            "move_money": "转账",
            "install_app": "安装应用",
            "other": "其他",
        },
    },
}
