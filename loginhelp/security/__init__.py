"""Security rules shared by the NLU pipeline, the actions and storage."""
