"""The core layer of hubspot_loader (see docs/architecture.md)."""
