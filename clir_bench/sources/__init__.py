"""Collection sources: the collection interface and its implementations (embedded UDHR, CIRAL
files, ir_datasets), documents streamed from disk, and the export of a track's files."""
