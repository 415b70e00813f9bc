"""The worker process: one APScheduler per process running the call center's periodic ticks."""
