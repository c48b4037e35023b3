"""The state layer of hubspot_loader (see docs/architecture.md)."""
