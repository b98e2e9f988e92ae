"""Question answering over a research report, every answer with the report's own footnote citations."""
