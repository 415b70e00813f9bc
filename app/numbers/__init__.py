"""The registry of official numbers: the lines we call from and answer on."""
