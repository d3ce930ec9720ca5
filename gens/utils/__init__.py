"""Small shared helpers: errors, rank-aware logging, checkpoint loading, atomic writes."""
