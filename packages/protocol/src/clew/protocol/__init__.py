"""clew.protocol: placeholder."""
