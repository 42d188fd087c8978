"""qbe's own loaders and writers, registered through the same hooks as any plugin."""
