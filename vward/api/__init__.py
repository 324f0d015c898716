"""FastAPI application: thin routers over services, typed dependencies."""
