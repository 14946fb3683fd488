"""Language resources of the assistant: the project's own spaCy pipeline."""
