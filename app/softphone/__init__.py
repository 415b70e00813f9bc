"""The softphone page (development and tests only): take simulated calls in the browser."""
