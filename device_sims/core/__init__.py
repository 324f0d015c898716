"""Pure, seeded simulation core: physiology, scenarios, faults and wire encoding."""
