"""The seeded synthetic demo dataset."""
