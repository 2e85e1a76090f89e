"""The check catalogue (shipped as data, plus a project's own file), its coverage by tests, and the generated
reference tables."""
