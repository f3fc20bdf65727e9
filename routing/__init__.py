"""Travel times by road (precomputed shortest-path trees) and, later, by air."""
