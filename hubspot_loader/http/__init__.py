"""The http layer of hubspot_loader (see docs/architecture.md)."""
