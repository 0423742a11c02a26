"""Helpers only the tests and benchmarks use: made-up images, starting the app or the model server, running
the CLI, waiting for jobs, stand-in HTTP APIs."""
