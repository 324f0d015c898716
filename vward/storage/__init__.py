"""asyncpg adapters, one module per table family, and the migration runner."""
