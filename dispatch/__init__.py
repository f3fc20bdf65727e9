"""The service: recommendation, HTTP API and command line."""
