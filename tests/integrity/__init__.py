"""Attacks on the ledger's integrity guarantee, as an attacker with SQL access makes them."""
