"""CSV contact imports: parse, normalize and merge large files set-based."""
