"""Configuration: environment files, YAML, dotenv, schema, secrets, fingerprints."""
