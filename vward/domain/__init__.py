"""Pure domain model: frozen values shared by every package. No I/O, no clock."""
