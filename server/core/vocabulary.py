"""The shop's words that several domains share."""

CHANNELS = ("email", "sms", "post", "phone", "push")
