"""The check catalogue, its coverage by tests, and the generated reference tables."""
