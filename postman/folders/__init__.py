"""The Postman collection's folders, one module each, and the snippets they share (common.py)."""
