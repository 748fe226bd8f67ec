"""Telling the outside world: webhooks now; YouTube uploads later."""
