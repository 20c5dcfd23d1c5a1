"""The knowledge store: dated, sourced facts and parameters, from knowledge/*.yml into a database."""
