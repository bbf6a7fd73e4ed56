"""Flow tests: conversation tests run through the engine, and understanding measured on labelled messages."""
