"""Rasa SDK custom actions of the login-help assistant."""
