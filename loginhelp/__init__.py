"""CoinEx login-help assistant: shared library (security checks, tickets, CLI)."""
