"""Helpers for tests that run real servers (PostgreSQL, Mosquitto) on loopback."""
