"""The tabs of the client file (Akte): one module per tab, assembled by ``ui/client_file.py``."""
