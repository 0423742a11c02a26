"""Helpers only the tests and benchmarks use: made-up images, starting the app, running the CLI, waiting for jobs."""
