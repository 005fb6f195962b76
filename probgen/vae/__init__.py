"""probgen.vae (in progress)."""
