"""A sibling module with the same name as one in the second function's folder."""

LABEL = "echo"
