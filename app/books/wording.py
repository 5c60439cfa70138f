"""How messages name books and count copies, the way a shopper reads them."""


def copies(n: int) -> str:
    """ "1 copy", "2 copies"."""
    return f"{n} copy" if n == 1 else f"{n} copies"


def quoted(title: str) -> str:
    """A title as messages show it: “Dune”."""
    return f"“{title}”"
