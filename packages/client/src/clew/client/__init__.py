"""clew.client."""
