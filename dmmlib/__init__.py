"""dmmlib."""
