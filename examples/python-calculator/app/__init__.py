"""A small calculator: a safe arithmetic evaluator with a command line and an HTTP API."""
