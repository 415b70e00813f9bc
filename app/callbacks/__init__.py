"""The callback engine: events become prioritized, compliant, exactly-once verification calls."""
