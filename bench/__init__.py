"""``make bench``: what agents feel, measured against the simulator on loopback."""
