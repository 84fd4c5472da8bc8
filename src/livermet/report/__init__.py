"""Reports of an assessment (Markdown, HTML, PDF, printable page) and their figures."""
