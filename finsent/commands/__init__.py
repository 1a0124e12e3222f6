"""One module per command group; each exposes `register(app)` for the root CLI."""
