"""API keys for integrator routes: from API_KEYS in the environment, or created at the CLI."""
