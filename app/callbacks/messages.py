"""Texts the callback engine sends, in the customer's language.

They live in reviewed code, not in call_flows/: they name the secrets we never ask for.
"""

from __future__ import annotations

UNREACHABLE_NOTICE = {
    "en": "{company} tried to call you about your account. Please call us back on {number}. "
    "We will never ask for your password, PIN or a code sent by text.",
    "it": "{company} ha provato a chiamarLa per il Suo conto. Ci richiami al numero {number}. "
    "Non Le chiederemo mai password, PIN o codici ricevuti via SMS.",
    "pl": "{company}: próbowaliśmy skontaktować się z Państwem w sprawie konta. Prosimy "
    "oddzwonić pod numer {number}. Nigdy nie poprosimy o hasło, PIN ani kod z SMS-a.",
    "zh": "{company}曾尝试就您的账户与您联系。请回拨{number}。"
    "我们绝不会索要您的密码、PIN码或短信验证码。",
}
