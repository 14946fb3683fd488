"""Secrets a customer might paste, and messages carrying them (shared by the redaction tests)."""
from __future__ import annotations

SECRETS = {
    "password": "Tr0ub4dor&3xyz",
    "2fa_code": "482913",
    "seed_phrase": "abandon ability able about above absent absorb abstract absurd abuse access accident",
    "private_key": "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
}

SECRET_MESSAGES = [
    f"my password is {SECRETS['password']}",
    f"the 2fa code is {SECRETS['2fa_code']}",
    f"here is my recovery phrase {SECRETS['seed_phrase']}",
    f"private key: {SECRETS['private_key']}",
]
