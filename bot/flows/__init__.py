"""Flow definitions: safe YAML loading, the schema, validation, lint and drawing (the engine compiles them)."""
