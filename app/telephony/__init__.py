"""Calls and the carriers that place them: Twilio, or the built-in simulator."""
