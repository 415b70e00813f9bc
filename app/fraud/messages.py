"""The text receipt after "it was not me", in the customer's language.

In reviewed code, not in call_flows/: it names the secrets we never ask for. No links, ever:
a text with a link is what a scammer sends.
"""

from __future__ import annotations

WHAT_WE_DO = {
    "freeze_card": {
        "en": "you told us a payment was not made by you. We are stopping it and freezing "
        "your card.",
        "it": "ci ha detto che un pagamento non è stato fatto da Lei. Lo stiamo bloccando e stiamo "
        "congelando la Sua carta.",
        "pl": "otrzymaliśmy informację, że płatność nie została wykonana przez Państwa. "
        "Wstrzymujemy ją i blokujemy kartę.",
        "zh": "您告知我们有一笔付款并非您本人操作。我们正在拦截这笔付款并冻结您的银行卡。",
    },
    "reject_withdrawal": {
        "en": "you told us you did not ask for a withdrawal. It is stopped and no money left your "
        "account.",
        "it": "ci ha detto di non aver chiesto un prelievo. È stato fermato e nessun importo ha "
        "lasciato il Suo conto.",
        "pl": "otrzymaliśmy informację, że wypłata nie została zlecona przez Państwa. Została "
        "zatrzymana i żadne "
        "środki nie opuściły Państwa konta.",
        "zh": "您告知我们您没有申请这笔取款。该笔取款已被拦截，资金没有从您的账户转出。",
    },
    "block_registration": {
        "en": "you told us you did not open a new account. We are blocking it.",
        "it": "ci ha detto di non aver aperto un nuovo conto. Lo stiamo bloccando.",
        "pl": "otrzymaliśmy informację, że nowe konto nie zostało założone przez Państwa. "
        "Blokujemy je.",
        "zh": "您告知我们您没有开立新账户。我们正在冻结该账户。",
    },
    "block_account_change": {
        "en": "you told us you did not change your account details. We are undoing the change.",
        "it": "ci ha detto di non aver modificato i dati del Suo conto. Stiamo annullando la "
        "modifica.",
        "pl": "otrzymaliśmy informację, że dane konta nie zostały zmienione przez Państwa. "
        "Cofamy tę zmianę.",
        "zh": "您告知我们您没有更改账户信息。我们正在撤销该更改。",
    },
    # A freeze asked for without the app (app.freezes): the text goes to the registered number,
    # so a customer who did not ask learns of it at once.
    "freeze_account": {
        "en": "we received a request to freeze your account, and it is now frozen. If you did "
        "not ask for this, call us.",
        "it": "abbiamo ricevuto una richiesta di bloccare il Suo conto, che ora è bloccato. Se "
        "non l'ha chiesto Lei, ci chiami.",
        "pl": "otrzymaliśmy prośbę o zablokowanie konta i jest ono teraz zablokowane. Jeśli to "
        "nie Państwo o to prosili, prosimy do nas zadzwonić.",
        "zh": "我们收到了冻结您账户的申请，您的账户现已冻结。如果并非您本人申请，请致电我们。",
    },
}

RECEIPT = {
    "en": "{company}: {what} Case {reference}: our fraud team will contact you; you need to do "
    "nothing now. We never ask for your password, PIN or a code sent by text. Questions: call "
    "{number}.",
    "it": "{company}: {what} Pratica {reference}: il nostro team antifrode La contatterà; ora non "
    "deve fare nulla. Non chiediamo mai password, PIN o codici ricevuti via SMS. Domande: "
    "chiami il {number}.",
    "pl": "{company}: {what} Sprawa {reference}: nasz zespół ds. oszustw skontaktuje się z "
    "Państwem; teraz nie trzeba nic robić. Nigdy nie prosimy o hasło, PIN ani kod z SMS-a. "
    "Pytania: prosimy dzwonić pod {number}.",
    "zh": "{company}：{what}案件编号：{reference}。我们的反欺诈团队会与您联系，"
    "您现在无需进行任何操作。"
    "我们绝不会索要您的密码、PIN码或短信验证码。如有疑问，请致电{number}。",
}


def receipt(locale: str, *, action: str, company: str, reference: str, number: str) -> str:
    lang = locale if locale in RECEIPT else "en"
    what = WHAT_WE_DO[action][lang]
    return RECEIPT[lang].format(company=company, what=what, reference=reference, number=number)
