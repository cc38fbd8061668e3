"""Security floor: encryption, exposure, detection and logging (mandatory unless stated)."""
