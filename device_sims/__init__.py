"""Simulated wearables and home sensors with realistic physiology and faults."""
