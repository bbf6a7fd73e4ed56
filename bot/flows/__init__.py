"""Flow definitions: safe YAML loading, the schema, validation, compilation and the registry of versions."""
