"""probgen.bayesnet (in progress)."""
