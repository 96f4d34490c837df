"""The six forms of a case management case, one per phase, and the phase stepper."""
