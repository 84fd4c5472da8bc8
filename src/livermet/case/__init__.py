"""A case file and its tumour-board assessment: the case model, loading, and every section."""
