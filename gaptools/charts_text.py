"""Text helpers shared by charts and tables (no plotting imports)."""


def cap(text) -> str:
    """Capitalise the first letter only ('GCSE English grade' stays as it is)."""
    text = str(text)
    return text[:1].upper() + text[1:]
