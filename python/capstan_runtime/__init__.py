"""Python helpers that Capstan's runtime starts (the process launcher of the local executor)."""
