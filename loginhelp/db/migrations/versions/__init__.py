"""Migration scripts; a package so they install with loginhelp."""
