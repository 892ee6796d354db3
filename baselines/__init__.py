"""Built-in baseline methods (registered on import)."""
