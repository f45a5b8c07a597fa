"""The bottom layer, shared by every other: errors, registries, TOML schema checks, languages,
atomic files and checksums, the portable seeded RNG, progress display. Imports nothing above it."""
