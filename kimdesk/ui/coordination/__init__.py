"""Koordination: Fallbesprechung, Fallrekonstruktion, Erkenntnisse, Projektgruppen, Lenkung."""
