#!/usr/bin/python3
"""pgpcraft: a small OpenPGP (RFC 4880, v4) packet builder for crafting
test keys, especially malformed or hostile ones, that gpg and sq would
refuse to make.

Everything is deterministic: a key's secret is SHA-256 of its seed string
and every timestamp is passed in, so a test can rebuild the same key (and
fingerprint) in another process.  Only the public side is ever output.

As a module (sys.path must hold this directory):

    import pgpcraft as pc
    alice = pc.Key("alice")                      # Ed25519, created 1700000000
    enc = pc.Cv25519Key("alice-enc")             # X25519 (ECDH) subkey
    data = pc.cert(alice, [b"Alice <alice@example.org>"],
                   [pc.Subkey(pc.Key("alice-sig"), 0x02, "yes"),
                    pc.Subkey(enc, 0x0C, "no")])
    print(pc.armor(data))
    print(pc.clearsign(alice, "hello\\n", created=1700000100))

As a command (output on stdout, ASCII-armored unless --binary):

    pgpcraft.py cert --seed S [--created T] [--uid 'A <a@x>']... [--uid-hex HEX]...
                     [--sub SEED:FLAGS:BACKSIG[:ALGO[:CREATED]]]...
                     [--cert-before-uid] [--revoked] [--revoked-sub N]...
                     [--expires-after SECONDS] [--binary]
    pgpcraft.py fpr|keyid --seed S [--created T] [--algo ed25519|cv25519]
    pgpcraft.py v3 --keyid HEX16 [--created T] [--uid 'Mallory <m@example.org>'] [--binary]
    pgpcraft.py flood [--bits 8192] [--ebits 17] [--uids N] [--sigs N] [--uid-len N]
                      [--sig-type HEX] [--no-issuer] [--valid [--created T]] [--binary]
    pgpcraft.py clearsign --seed S [--created T] [--sub-seed SS [--sub-created T2]]
                          [--sig-time T3] < text

--sub: FLAGS is a hex key-flags octet or "none" (no key-flags subpacket),
then "+HEX" for each further key-flags subpacket (0c+02: two of them);
BACKSIG is "yes" (embedded 0x19 back-signature by the subkey), "no" (none)
or "bad" (a 0x19 made by another key, claiming to be the subkey's); ALGO is
ed25519 or cv25519 (default: cv25519 when FLAGS only has encryption bits,
else ed25519); CREATED defaults to --created.  A subkey whose seed (and
creation time) equals another key's primary seed IS that other primary key.
"""

import argparse
import base64
import hashlib
import os
import struct
import sys
import time
from dataclasses import dataclass
from typing import Optional

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

DEFAULT_CREATED = 1700000000

# algorithms and constants
PK_RSA, PK_ECDH, PK_EDDSA = 1, 18, 22
HASH_SHA256 = 8
OID_ED25519 = bytes.fromhex("2B06010401DA470F01")      # 1.3.6.1.4.1.11591.15.1
OID_CV25519 = bytes.fromhex("2B060104019755010501")    # 1.3.6.1.4.1.3029.1.5.1
KDF_SHA256_AES128 = bytes([3, 1, HASH_SHA256, 7])

# packet tags
TAG_SIG, TAG_PUBKEY, TAG_UID, TAG_PUBSUB = 2, 6, 13, 14

# signature types
SIG_BINARY, SIG_TEXT = 0x00, 0x01
SIG_POSITIVE_CERT = 0x13
SIG_SUBKEY_BINDING, SIG_PRIMARY_BINDING = 0x18, 0x19
SIG_DIRECT_KEY, SIG_KEY_REVOCATION, SIG_SUBKEY_REVOCATION = 0x1F, 0x20, 0x28

# signature subpacket types
SP_CREATION, SP_SIG_EXPIRATION, SP_KEY_EXPIRATION = 2, 3, 9
SP_ISSUER, SP_PRIMARY_UID, SP_KEY_FLAGS = 16, 25, 27
SP_REVOCATION_REASON, SP_EMBEDDED_SIG, SP_ISSUER_FPR = 29, 32, 33

# key flags
KF_CERTIFY, KF_SIGN, KF_ENCRYPT_COMMS, KF_ENCRYPT_STORAGE = 0x01, 0x02, 0x04, 0x08
KF_AUTH = 0x20


# --- framing ---------------------------------------------------------------

def u8(n):
    return struct.pack(">B", n)


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def mpi(value):
    """An MPI: 16-bit bit count, then the big-endian value without
    leading zero octets.  value is an int or big-endian bytes."""
    if isinstance(value, (bytes, bytearray)):
        value = int.from_bytes(value, "big")
    nbits = value.bit_length()
    return u16(nbits) + value.to_bytes((nbits + 7) // 8, "big")


def new_length(n):
    """A new-format (RFC 4880 4.2.2) body length: 1, 2 or 5 octets."""
    if n < 192:
        return u8(n)
    if n < 8384:
        n -= 192
        return u8((n >> 8) + 192) + u8(n & 0xFF)
    return b"\xff" + u32(n)


def packet(tag, body):
    """A packet with a new-format header (0xC0 | tag)."""
    return u8(0xC0 | tag) + new_length(len(body)) + body


def subpacket(sptype, data, critical=False):
    """A signature subpacket; its length counts the type octet."""
    return new_length(len(data) + 1) + u8(sptype | (0x80 if critical else 0)) + data


# --- keys ------------------------------------------------------------------

class Key:
    """A v4 Ed25519 (EdDSA, algo 22) key whose secret is SHA-256(seed)."""

    algo = PK_EDDSA

    def __init__(self, seed, created=DEFAULT_CREATED):
        self.seed = seed
        self.created = created
        self.secret = hashlib.sha256(seed.encode()).digest()
        self._priv = ed25519.Ed25519PrivateKey.from_private_bytes(self.secret)

    def public_bytes(self):
        return self._priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def key_material(self):
        return u8(len(OID_ED25519)) + OID_ED25519 + mpi(b"\x40" + self.public_bytes())

    def packet_body(self):
        return u8(4) + u32(self.created) + u8(self.algo) + self.key_material()

    def hash_prefix(self):
        """What a signature over this key hashes: 0x99 || len16 || body."""
        body = self.packet_body()
        return b"\x99" + u16(len(body)) + body

    @property
    def fpr_bytes(self):
        return hashlib.sha1(self.hash_prefix()).digest()

    @property
    def fpr(self):
        return self.fpr_bytes.hex().upper()

    @property
    def keyid(self):
        return self.fpr[-16:]

    def packet(self, tag=TAG_PUBKEY):
        return packet(tag, self.packet_body())

    def sign(self, digest):
        """EdDSA over the hash digest; returns the MPIs (R, S) as ints."""
        raw = self._priv.sign(digest)
        return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")

    def __repr__(self):
        return f"{type(self).__name__}({self.seed!r}, {self.created}) {self.fpr}"


class Cv25519Key(Key):
    """A v4 X25519 (ECDH, algo 18) encryption key; it cannot sign."""

    algo = PK_ECDH

    def __init__(self, seed, created=DEFAULT_CREATED):
        self.seed = seed
        self.created = created
        self.secret = hashlib.sha256(seed.encode()).digest()
        self._priv = x25519.X25519PrivateKey.from_private_bytes(self.secret)

    def key_material(self):
        return (u8(len(OID_CV25519)) + OID_CV25519
                + mpi(b"\x40" + self.public_bytes()) + KDF_SHA256_AES128)

    def sign(self, digest):
        raise ValueError("a Cv25519 (ECDH) key cannot sign")


# --- signatures ------------------------------------------------------------

def canonical_text(text):
    """RFC 4880 7.1 / 5.2.1 type 0x01: CRLF line endings, trailing spaces
    and tabs of each line removed.  text is str or bytes."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    lines = text.split(b"\n")
    return b"\r\n".join(line.rstrip(b" \t\r") for line in lines)


class Sig:
    """A v4 signature: SHA-256, creation time and issuer fingerprint
    hashed, issuer key id unhashed.  Add subpackets, then make()."""

    def __init__(self, sigtype, signer, created, issuer=None):
        self.sigtype = sigtype
        self.signer = signer
        issuer = issuer or signer       # whom the signature claims to be by
        self.hashed = [subpacket(SP_CREATION, u32(created)),
                       subpacket(SP_ISSUER_FPR, b"\x04" + issuer.fpr_bytes)]
        self.unhashed = [subpacket(SP_ISSUER, issuer.fpr_bytes[-8:])]

    def add(self, sptype, data, critical=False, hashed=True):
        (self.hashed if hashed else self.unhashed).append(subpacket(sptype, data, critical))
        return self

    def key_flags(self, flags):
        return self.add(SP_KEY_FLAGS, u8(flags))

    def key_expiration(self, seconds):
        """Seconds after the key's creation time."""
        return self.add(SP_KEY_EXPIRATION, u32(seconds))

    def sig_expiration(self, seconds):
        """Seconds after the signature's creation time."""
        return self.add(SP_SIG_EXPIRATION, u32(seconds))

    def primary_uid(self):
        return self.add(SP_PRIMARY_UID, b"\x01")

    def revocation_reason(self, code=0, reason=b""):
        if isinstance(reason, str):
            reason = reason.encode()
        return self.add(SP_REVOCATION_REASON, u8(code) + reason)

    def embedded(self, sig_body):
        return self.add(SP_EMBEDDED_SIG, sig_body)

    @staticmethod
    def signed_data(sigtype, primary=None, uid=None, subkey=None, text=None, data=None):
        """What RFC 4880 5.2.4 hashes before the signature's own fields."""
        if sigtype == SIG_TEXT:
            return canonical_text(text)
        if sigtype == SIG_BINARY:
            return data
        out = primary.hash_prefix()
        if sigtype in (SIG_SUBKEY_BINDING, SIG_PRIMARY_BINDING, SIG_SUBKEY_REVOCATION):
            out += subkey.hash_prefix()
        elif 0x10 <= sigtype <= 0x13 or sigtype == 0x30:
            out += b"\xb4" + u32(len(uid)) + uid
        return out

    def make(self, **what):
        """The signature packet body; what: primary, uid, subkey, text or data."""
        hashed = b"".join(self.hashed)
        head = (u8(4) + u8(self.sigtype) + u8(self.signer.algo) + u8(HASH_SHA256)
                + u16(len(hashed)) + hashed)
        digest = hashlib.sha256(Sig.signed_data(self.sigtype, **what) + head
                                + b"\x04\xff" + u32(len(head))).digest()
        mpis = b"".join(mpi(v) for v in self.signer.sign(digest))
        unhashed = b"".join(self.unhashed)
        return head + u16(len(unhashed)) + unhashed + digest[:2] + mpis

    def packet(self, **what):
        return packet(TAG_SIG, self.make(**what))


# --- certificates ----------------------------------------------------------

@dataclass
class Subkey:
    """A subkey of a cert: flags None = no key-flags subpacket; backsig
    "yes" | "no" | "bad" (a 0x19 by another key claiming the subkey)."""
    key: Key
    flags: Optional[int] = KF_SIGN
    backsig: str = "yes"
    revoked: bool = False
    more_flags: tuple = ()      # further key-flags subpackets, in order


def cert(primary, uids=(), subkeys=(), created=None, cert_before_uid=False,
         revoked=False, expires_after=None):
    """A transferable public key, binary.  uids are raw bytes, each with a
    positive (0x13) self-certification carrying key flags 0x03 (and
    primary-user-ID on the first).  created is the time of every
    self-signature (default: the newest key's creation time).
    cert_before_uid puts a 0x13 over the first uid (or b"stray") right
    after the primary key packet; revoked adds a 0x20 by the primary;
    expires_after sets a key expiration (seconds) in the self-certs."""
    if created is None:
        created = max([primary.created] + [s.key.created for s in subkeys])
    out = primary.packet(TAG_PUBKEY)
    if revoked:
        out += (Sig(SIG_KEY_REVOCATION, primary, created)
                .revocation_reason(0, b"revoked by pgpcraft").packet(primary=primary))
    if cert_before_uid:
        uid = uids[0] if uids else b"stray"
        out += Sig(SIG_POSITIVE_CERT, primary, created).packet(primary=primary, uid=uid)
    for i, uid in enumerate(uids):
        sig = Sig(SIG_POSITIVE_CERT, primary, created).key_flags(KF_CERTIFY | KF_SIGN)
        if i == 0:
            sig.primary_uid()
        if expires_after is not None:
            sig.key_expiration(expires_after)
        out += packet(TAG_UID, uid) + sig.packet(primary=primary, uid=uid)
    for sub in subkeys:
        out += sub.key.packet(TAG_PUBSUB)
        sig = Sig(SIG_SUBKEY_BINDING, primary, created)
        if sub.flags is not None:
            sig.key_flags(sub.flags)
        for f in sub.more_flags:
            sig.key_flags(f)
        if sub.backsig in ("yes", "bad"):
            signer = sub.key if sub.backsig == "yes" else Key(sub.key.seed + "/not-the-subkey")
            back = Sig(SIG_PRIMARY_BINDING, signer, created, issuer=sub.key)
            sig.embedded(back.make(primary=primary, subkey=sub.key))
        elif sub.backsig != "no":
            raise ValueError(f"backsig must be yes, no or bad, not {sub.backsig!r}")
        out += sig.packet(primary=primary, subkey=sub.key)
        if sub.revoked:
            out += (Sig(SIG_SUBKEY_REVOCATION, primary, created)
                    .revocation_reason(0, b"subkey revoked by pgpcraft")
                    .packet(primary=primary, subkey=sub.key))
    return out


class FakeRSAKey(Key):
    """A v4 RSA "key" of a chosen modulus and exponent size whose numbers
    are made up (no secret exists): its signatures are garbage a verifier
    can only refuse after the full RSA operation, which with a large
    exponent is what an attacker wants it to do."""

    algo = PK_RSA

    def __init__(self, seed, bits=8192, ebits=17, created=DEFAULT_CREATED):
        self.seed, self.created, self.bits = seed, created, bits
        stream = b""
        i = 0
        while len(stream) * 8 < bits + ebits:
            stream += hashlib.sha256(f"{seed}/{i}".encode()).digest()
            i += 1
        self.n = int.from_bytes(stream, "big") >> (len(stream) * 8 - bits)
        self.n |= (1 << (bits - 1)) | 1
        self.e = (int.from_bytes(stream[-(ebits + 7) // 8:], "big")
                  & ((1 << ebits) - 1)) | (1 << (ebits - 1)) | 1

    def key_material(self):
        return mpi(self.n) + mpi(self.e)

    def sign(self, digest):
        return (int.from_bytes(hashlib.sha256(digest).digest() * (self.bits // 256), "big")
                % self.n,)


def flood(bits, ebits, nuids, sigs, uid_len=0, created=DEFAULT_CREATED,
          sigtype=SIG_POSITIVE_CERT, issuer=True, valid=False):
    """A cert costing a verifier what it can: an RSA key of bits/ebits,
    nuids user IDs (padded to uid_len octets), each with sigs garbage
    self-signatures of sigtype (right issuer, or none without issuer;
    right quick-check octets).  valid: an Ed25519 key instead, whose
    self-signatures are good (made one second apart from created)."""
    if valid:
        key = Key("flood/valid", DEFAULT_CREATED)
    else:
        key = FakeRSAKey(f"flood/{bits}/{ebits}", bits, ebits, created)
    out = key.packet(TAG_PUBKEY)
    for i in range(nuids):
        uid = f"Flood {i} <flood{i}@example.org>".encode()
        uid += b"x" * max(0, uid_len - len(uid))
        out += packet(TAG_UID, uid)
        for j in range(sigs):
            sig = Sig(sigtype, key, created + j)
            if not issuer:
                sig.hashed = sig.hashed[:1]     # the creation time only
                sig.unhashed = []
            out += sig.packet(primary=key, uid=uid)
    return out


def v3_rsa_key(keyid_hex, created=DEFAULT_CREATED, uid=b"Mallory <m@example.org>"):
    """A version-3 RSA public key packet and a user ID packet.  The
    2048-bit modulus (not a real RSA modulus) has the key id as its low 64
    bits, so its v3 key id is keyid_hex."""
    keyid = int(keyid_hex, 16)
    if not 0 <= keyid < 1 << 64:
        raise ValueError("a key id is 16 hex digits")
    filler = b"".join(hashlib.sha256(keyid_hex.encode() + bytes([i])).digest()
                      for i in range(8))
    n = int.from_bytes(filler, "big") & ((1 << 2048) - 1)
    n |= 1 << 2047                                   # exactly 2048 bits
    n = (n >> 64 << 64) | keyid
    body = u8(3) + u32(created) + u16(0) + u8(PK_RSA) + mpi(n) + mpi(65537)
    if isinstance(uid, str):
        uid = uid.encode()
    return packet(TAG_PUBKEY, body) + packet(TAG_UID, uid)


# --- armor and cleartext signatures ----------------------------------------

def crc24(data):
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(data, kind="PUBLIC KEY BLOCK"):
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    crc = base64.b64encode(crc24(data).to_bytes(3, "big")).decode()
    return "\n".join([f"-----BEGIN PGP {kind}-----", ""] + lines
                     + ["=" + crc, f"-----END PGP {kind}-----"]) + "\n"


def clearsign(key, text, created=None):
    """A cleartext-signed message (RFC 4880 7) of text (str; undecodable
    bytes as surrogate escapes, as os.fsdecode makes them) with a type
    0x01 signature by key (a primary or a subkey: the issuer is key).  As
    gpg does, a final newline of text ends the last line and is not
    signed; lines starting with "-" are dash-escaped."""
    if created is None:
        created = int(time.time())
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    signed = "\n".join(lines)
    sig = Sig(SIG_TEXT, key, created).packet(text=signed)
    body = "".join(("- " + l if l.startswith("-") else l) + "\n" for l in lines)
    return ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body
            + armor(sig, "SIGNATURE"))


# --- encrypted, signed messages -----------------------------------------------

def read_packets(data):
    """(tag, body) of each packet of binary data, old or new format."""
    out, i = [], 0
    while i < len(data):
        h = data[i]
        if not h & 0x80:
            raise ValueError("not an OpenPGP packet")
        if h & 0x40:                    # new format
            tag, i = h & 0x3F, i + 1
            o = data[i]
            if o < 192:
                n, i = o, i + 1
            elif o < 224:
                n, i = ((o - 192) << 8) + data[i + 1] + 192, i + 2
            elif o == 255:
                n, i = struct.unpack(">I", data[i + 1:i + 5])[0], i + 5
            else:
                raise ValueError("partial lengths are not read here")
        else:                           # old format
            tag, lt, i = (h >> 2) & 0x0F, h & 3, i + 1
            size = {0: 1, 1: 2, 2: 4}[lt]
            n, i = int.from_bytes(data[i:i + size], "big"), i + size
        out.append((tag, data[i:i + n]))
        i += n
    return out


def dearmor(text):
    """The binary of the first armor block of text (bytes or str)."""
    if isinstance(text, bytes):
        text = text.decode()
    if "-----BEGIN" not in text:
        return text.encode("latin-1")
    text = text.replace("\r\n", "\n")
    body = text.split("\n\n", 1)[1].split("\n=")[0].split("-----END")[0]
    return base64.b64decode("".join(body.split()))


def cv25519_subkey(cert_bytes):
    """The (public X25519 key, fingerprint) of the first ECDH Curve25519
    subkey of a cert."""
    for tag, body in read_packets(cert_bytes):
        if tag != TAG_PUBSUB or body[5] != PK_ECDH:
            continue
        oidlen = body[6]
        if body[7:7 + oidlen] != OID_CV25519:
            continue
        bits_at = 7 + oidlen
        point = body[bits_at + 2:bits_at + 2 + 33]
        fpr = hashlib.sha1(b"\x99" + u16(len(body)) + body).digest()
        return point[1:], fpr
    raise ValueError("no Curve25519 encryption subkey")


def encrypt_signed(signer, data, recipient_cert, created=None):
    """data signed by signer (inline: one-pass, literal, signature, type
    0x00) and encrypted to the Curve25519 subkey of recipient_cert
    (RFC 6637 ECDH with SHA-256 and AES-128 key wrap; SEIPD with MDC,
    AES-256)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap
    try:        # newer cryptography keeps OpenPGP's CFB among the decrepit
        from cryptography.hazmat.decrepit.ciphers.modes import CFB
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.modes import CFB
    if created is None:
        created = int(time.time())
    onepass = (u8(3) + u8(SIG_BINARY) + u8(HASH_SHA256) + u8(signer.algo)
               + signer.fpr_bytes[-8:] + u8(1))
    literal = u8(ord("b")) + u8(0) + u32(created) + data
    plain = (packet(4, onepass) + packet(11, literal)
             + Sig(SIG_BINARY, signer, created).packet(data=data))
    pub, fpr = cv25519_subkey(recipient_cert)
    eph = x25519.X25519PrivateKey.generate()
    shared = eph.exchange(x25519.X25519PublicKey.from_public_bytes(pub))
    param = (u8(len(OID_CV25519)) + OID_CV25519 + u8(PK_ECDH)
             + KDF_SHA256_AES128 + b"Anonymous Sender    " + fpr)
    kek = hashlib.sha256(b"\x00\x00\x00\x01" + shared + param).digest()[:16]
    session = os.urandom(32)
    m = u8(9) + session + u16(sum(session) & 0xFFFF)
    pad = 8 - len(m) % 8
    m += bytes([pad]) * pad
    wrapped = aes_key_wrap(kek, m)
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    pkesk = (u8(3) + fpr[-8:] + u8(PK_ECDH) + mpi(b"\x40" + eph_pub)
             + u8(len(wrapped)) + wrapped)
    prefix = os.urandom(16)
    prefix += prefix[-2:]
    mdc = b"\xd3\x14" + hashlib.sha1(prefix + plain + b"\xd3\x14").digest()
    enc = Cipher(algorithms.AES(session), CFB(b"\x00" * 16)).encryptor()
    seipd = u8(1) + enc.update(prefix + plain + mdc) + enc.finalize()
    return packet(1, pkesk) + packet(18, seipd)


# --- command line ----------------------------------------------------------

ALGOS = {"ed25519": Key, "cv25519": Cv25519Key}


def parse_sub(spec, created):
    """SEED:FLAGS:BACKSIG[:ALGO[:CREATED]] -> Subkey."""
    parts = spec.split(":")
    if not 3 <= len(parts) <= 5:
        raise argparse.ArgumentTypeError(f"--sub {spec!r}: SEED:FLAGS:BACKSIG[:ALGO[:CREATED]]")
    seed, flags, backsig = parts[:3]
    flags, *more = flags.split("+")
    flags = None if flags.lower() == "none" else int(flags, 16)
    more = tuple(int(f, 16) for f in more)
    algo = parts[3] if len(parts) > 3 and parts[3] else None
    if algo is None:
        only_enc = flags is not None and flags & (KF_ENCRYPT_COMMS | KF_ENCRYPT_STORAGE) \
            and not flags & (KF_CERTIFY | KF_SIGN | KF_AUTH)
        algo = "cv25519" if only_enc else "ed25519"
    sub_created = int(parts[4]) if len(parts) > 4 else created
    cls = ALGOS.get(algo)
    if cls is None or backsig not in ("yes", "no", "bad"):
        raise argparse.ArgumentTypeError(f"--sub {spec!r}: bad ALGO or BACKSIG")
    if cls is Cv25519Key and backsig == "yes":
        raise argparse.ArgumentTypeError(f"--sub {spec!r}: a cv25519 key cannot make a backsig")
    return Subkey(cls(seed, sub_created), flags, backsig, more_flags=more)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pgpcraft.py", description=__doc__.split("\n\n")[0])
    cmds = ap.add_subparsers(dest="cmd", required=True)

    def key_args(p):
        p.add_argument("--seed", required=True)
        p.add_argument("--created", type=int, default=DEFAULT_CREATED)

    p = cmds.add_parser("cert", help="a v4 Ed25519 cert")
    key_args(p)
    p.add_argument("--uid", dest="uids", action="append", type=os.fsencode, default=[], metavar="UID",
                   help="a user ID (repeatable, order kept with --uid-hex)")
    p.add_argument("--uid-hex", dest="uids", action="append", type=bytes.fromhex, metavar="HEX",
                   help="a user ID as hex octets (for NUL, CR, LF, bad UTF-8)")
    p.add_argument("--sub", action="append", default=[], metavar="SEED:FLAGS:BACKSIG[:ALGO[:CREATED]]")
    p.add_argument("--cert-before-uid", action="store_true")
    p.add_argument("--revoked", action="store_true")
    p.add_argument("--revoked-sub", action="append", type=int, default=[], metavar="N",
                   help="revoke the Nth --sub (1-based) with a 0x28")
    p.add_argument("--expires-after", type=int, metavar="SECONDS")
    p.add_argument("--binary", action="store_true")
    for name in ("fpr", "keyid"):
        p = cmds.add_parser(name, help=f"print a key's {name}")
        key_args(p)
        p.add_argument("--algo", choices=ALGOS, default="ed25519")
    p = cmds.add_parser("v3", help="a v3 RSA key with a chosen key id")
    p.add_argument("--keyid", required=True)
    p.add_argument("--created", type=int, default=DEFAULT_CREATED)
    p.add_argument("--uid", type=os.fsencode, default=b"Mallory <m@example.org>")
    p.add_argument("--binary", action="store_true")
    p = cmds.add_parser("flood", help="an RSA cert of made-up numbers with "
                        "many garbage self-signatures (verification cost)")
    p.add_argument("--bits", type=int, default=8192)
    p.add_argument("--ebits", type=int, default=17)
    p.add_argument("--uids", type=int, default=1)
    p.add_argument("--sigs", type=int, default=1, help="per user ID")
    p.add_argument("--uid-len", type=int, default=0)
    p.add_argument("--sig-type", type=lambda v: int(v, 16), default=SIG_POSITIVE_CERT,
                   help="hex signature type (30: user ID revocations)")
    p.add_argument("--no-issuer", action="store_true",
                   help="signatures that name no issuer")
    p.add_argument("--valid", action="store_true",
                   help="an Ed25519 key with good self-signatures instead")
    p.add_argument("--created", type=int, default=DEFAULT_CREATED,
                   help="the first signature's time")
    p.add_argument("--binary", action="store_true")
    p = cmds.add_parser("clearsign", help="clearsign stdin")
    key_args(p)
    p.add_argument("--sub-seed", help="sign with this Ed25519 subkey instead")
    p.add_argument("--sub-created", type=int, help="default: --created")
    p.add_argument("--sig-time", type=int, help="default: now")
    p = cmds.add_parser("encsign", help="sign stdin (inline) and encrypt it "
                        "to the Curve25519 subkey of the cert in --to")
    key_args(p)
    p.add_argument("--sub-seed", help="sign with this Ed25519 subkey instead")
    p.add_argument("--sub-created", type=int, help="default: --created")
    p.add_argument("--to", required=True, metavar="CERTFILE")
    args = ap.parse_args(argv)

    out = sys.stdout
    if args.cmd == "encsign":
        key = Key(args.seed, args.created)
        if args.sub_seed:
            key = Key(args.sub_seed, args.created if args.sub_created is None else args.sub_created)
        with open(args.to, "rb") as f:
            to = dearmor(f.read())
        sys.stdout.buffer.write(encrypt_signed(key, sys.stdin.buffer.read(), to))
        return 0
    if args.cmd in ("fpr", "keyid"):
        out.write(getattr(ALGOS[args.algo](args.seed, args.created), args.cmd) + "\n")
    elif args.cmd == "clearsign":
        key = Key(args.seed, args.created)
        if args.sub_seed:
            key = Key(args.sub_seed, args.created if args.sub_created is None else args.sub_created)
        text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
        out.flush()
        sys.stdout.buffer.write(clearsign(key, text, args.sig_time).encode("utf-8", "surrogateescape"))
    else:
        if args.cmd == "cert":
            try:
                subs = [parse_sub(s, args.created) for s in args.sub]
                for n in args.revoked_sub:
                    if not 1 <= n <= len(subs):
                        raise IndexError(f"--revoked-sub {n}: there are {len(subs)} --sub")
                    subs[n - 1].revoked = True
            except (argparse.ArgumentTypeError, ValueError, IndexError) as e:
                ap.error(str(e))
            data = cert(Key(args.seed, args.created), args.uids, subs,
                        cert_before_uid=args.cert_before_uid, revoked=args.revoked,
                        expires_after=args.expires_after)
        elif args.cmd == "flood":
            data = flood(args.bits, args.ebits, args.uids, args.sigs, args.uid_len,
                         created=args.created, sigtype=args.sig_type,
                         issuer=not args.no_issuer, valid=args.valid)
        else:
            data = v3_rsa_key(args.keyid, args.created, args.uid)
        if args.binary:
            out.flush()
            sys.stdout.buffer.write(data)
        else:
            out.write(armor(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
