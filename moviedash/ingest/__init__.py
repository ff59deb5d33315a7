"""Getting events in: the CSV loader and the seeded demo generator."""
