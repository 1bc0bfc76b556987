"""The service layer: commands in, plain values out. Knows the store only through `LedgerApp`."""
