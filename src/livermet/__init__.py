"""livermet: decision support and evidence for liver metastases of soft-tissue sarcoma.

Decision support, not medical advice.
"""

__version__ = "0.1.0"
