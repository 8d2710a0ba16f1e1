"""Write use cases of billing: settlement (B5-B11), ledger postings and payments (B12)."""
