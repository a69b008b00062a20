"""The genbench version, recorded in every result, statistics file and suite stage key."""
__version__ = "0.1.0"
