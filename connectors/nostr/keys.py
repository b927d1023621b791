"""Nostr keys: NIP-19 bech32 forms and BIP-340 Schnorr signatures (via coincurve).

Written from NIP-19 (https://github.com/nostr-protocol/nips/blob/master/19.md) and
BIP-173 (bech32, https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki).
Only the bare forms are needed here: ``nsec``, ``npub`` and ``note`` carry 32 bytes.
"""

from __future__ import annotations

import os

from coincurve import PrivateKey, PublicKeyXOnly

__all__ = ["InvalidKey", "Keys", "bech32_decode", "bech32_encode", "npub", "note_id", "verify"]

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
#: NIP-19 keys are 32 bytes: "nsec1" + 52 data + 6 checksum characters.
_MAX_LENGTH = 100


class InvalidKey(ValueError):
    """A key that is not a valid nsec, npub or 64-hex-character key."""


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                check ^= generator
    return check


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert(data: list[int] | bytes, from_bits: int, to_bits: int, pad: bool) -> list[int]:
    accumulator, bits, out = 0, 0, []
    top = (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & top)
    if pad and bits:
        out.append((accumulator << (to_bits - bits)) & top)
    elif not pad and (bits >= from_bits or (accumulator << (to_bits - bits)) & top):
        raise InvalidKey("bech32 data has bad padding")
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """``data`` as bech32 with the human-readable part ``hrp`` (``npub``, ``note``…)."""
    words = _convert(data, 8, 5, pad=True)
    checksum = _polymod(_expand(hrp) + words + [0] * 6) ^ 1
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words)


def bech32_decode(text: str) -> tuple[str, bytes]:
    """The human-readable part and the bytes of a bech32 string.

    Raises:
        InvalidKey: not bech32, or its checksum does not match.
    """
    if len(text) > _MAX_LENGTH or text.lower() != text and text.upper() != text:
        raise InvalidKey("not a bech32 string")
    text = text.lower()
    hrp, separator, rest = text.rpartition("1")
    if not separator or not hrp or len(rest) < 6 or any(c not in _CHARSET for c in rest):
        raise InvalidKey("not a bech32 string")
    words = [_CHARSET.index(c) for c in rest]
    if _polymod(_expand(hrp) + words) != 1:
        raise InvalidKey("the bech32 checksum does not match (a typo in the key?)")
    return hrp, bytes(_convert(words[:-6], 5, 8, pad=False))


def _secret_bytes(text: str) -> bytes:
    text = text.strip()
    if text.startswith(("nsec1", "NSEC1")):
        hrp, data = bech32_decode(text)
        if hrp != "nsec" or len(data) != 32:
            raise InvalidKey("an nsec key must hold 32 bytes")
        return data
    if text.startswith(("npub1", "NPUB1")):
        raise InvalidKey("that is the public key (npub); the secret key starts with nsec1")
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    raise InvalidKey("expected an nsec1… key or 64 hexadecimal characters")


def npub(pubkey_hex: str) -> str:
    """The ``npub1…`` form of a public key given in hex."""
    return bech32_encode("npub", bytes.fromhex(pubkey_hex))


def note_id(event_id_hex: str) -> str:
    """The ``note1…`` form of an event id given in hex."""
    return bech32_encode("note", bytes.fromhex(event_id_hex))


class Keys:
    """A secret key and its x-only public key; signs event ids (BIP-340).

    The secret never shows in ``repr``; :attr:`secret_forms` lists what must be
    masked wherever text could carry it.
    """

    def __init__(self, secret: str) -> None:
        data = _secret_bytes(secret)
        try:
            self._key = PrivateKey(data)
        except ValueError:
            raise InvalidKey("the secret key is out of range for secp256k1") from None
        #: The public key, 64 lowercase hex characters.
        self.pubkey = self._key.public_key_xonly.format().hex()
        self.secret_forms = (secret.strip(), data.hex(), bech32_encode("nsec", data))

    def __repr__(self) -> str:
        return f"Keys(pubkey={self.pubkey!r})"

    def sign(self, event_id_hex: str) -> str:
        """The Schnorr signature of an event id, 128 hex characters (fresh aux randomness)."""
        return self._key.sign_schnorr(bytes.fromhex(event_id_hex), os.urandom(32)).hex()


def verify(pubkey_hex: str, event_id_hex: str, signature_hex: str) -> bool:
    """Whether ``signature_hex`` signs ``event_id_hex`` for ``pubkey_hex`` (BIP-340)."""
    try:
        key = PublicKeyXOnly(bytes.fromhex(pubkey_hex))
        return bool(key.verify(bytes.fromhex(signature_hex), bytes.fromhex(event_id_hex)))
    except ValueError:
        return False
