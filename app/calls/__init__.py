"""Call records: each call we placed or answered, what the carrier reported, what was said."""
