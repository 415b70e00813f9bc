"""The IVR call layer: Twilio's webhooks, answered by running each call's flow."""
