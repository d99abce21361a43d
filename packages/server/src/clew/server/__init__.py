"""clew.server."""
