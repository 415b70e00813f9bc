"""Carriers behind the Telephony interface: Twilio, or the built-in simulator."""
