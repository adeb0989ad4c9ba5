"""Fast tests of one module or function: no subprocess, no real data, no network server."""
