"""Local stand-ins for the outside services the assistant talks to, for tests without the internet."""
