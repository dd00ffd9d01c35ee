"""A sibling module with the same name as one in the echo function's folder."""

LABEL = "second"
