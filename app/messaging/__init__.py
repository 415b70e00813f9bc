"""Messages to people and systems: texts, e-mails, and the core system's webhooks."""
