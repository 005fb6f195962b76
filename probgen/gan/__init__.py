"""probgen.gan (in progress)."""
