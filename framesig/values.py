"""Small immutable values: a 64-bit image hash that knows its distance and hex form."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImageHash"]

_MASK = (1 << 64) - 1
_HEX_DIGITS = frozenset("0123456789abcdef")  # int(x, 16) also takes "+", "_" and non-ASCII


@dataclass(frozen=True, order=True)
class ImageHash:
    """A 64-bit perceptual hash.

    Examples
    --------
    >>> a = ImageHash.from_hex("00000000000000ff")
    >>> b = ImageHash(0x0F)
    >>> a - b
    4
    >>> a.distance(b), str(a), a.hex
    (4, '00000000000000ff', '00000000000000ff')
    >>> ImageHash.from_hex(a.hex) == a
    True
    """

    value: int

    def __post_init__(self) -> None:
        if not isinstance(self.value, int) or not 0 <= self.value <= _MASK:
            raise ValueError(f"an ImageHash is a 64-bit unsigned integer, got {self.value!r}")

    @classmethod
    def from_hex(cls, text: str) -> ImageHash:
        """Parse 16 hex digits (as written by :attr:`hex`)."""
        text = text.strip().lower().removeprefix("0x")
        if len(text) != 16 or not all(c in _HEX_DIGITS for c in text):
            raise ValueError(f"an ImageHash is 16 hex digits, got {text!r}")
        return cls(int(text, 16))

    @property
    def hex(self) -> str:
        """The hash as 16 lower-case hex digits."""
        return f"{self.value:016x}"

    def distance(self, other: ImageHash) -> int:
        """Hamming distance: the number of differing bits (0..64)."""
        return (self.value ^ other.value).bit_count()

    def __sub__(self, other: ImageHash) -> int:
        return self.distance(other)

    def __str__(self) -> str:
        return self.hex

    def __int__(self) -> int:
        return self.value
