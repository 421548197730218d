#!/usr/bin/python3
"""prop.py: a seeded random walk against a running keydird, checked after
every step against a small model (run by tests/e2e/12-property.sh).

Steps: uploads (VKS upload + request-verify, HKP add) of cert variants of
six owners (random user IDs, honest and hostile; random subkeys, the
owner's own and attacks binding another owner's keys), confirming or
rejecting a link from the Maildir, replaying a used link, uploading a
revoked variant (the owner then moves to a new key), and signed removals.

The model holds only what the server acknowledged: per key, the user ID
bytes it was uploaded with (200), the addresses whose confirmation POST
said "published" for it, the subkeys bound to it with a back-signature,
whether a removal or a revocation was acknowledged.  Invariants (checked
on what a step touched, and on everything every SWEEP steps and at the
end):

  uid    every user ID served (VKS, HKP get, HKP index, mail attachments)
         is in the strict form ("addr" or "Name <addr>", no @ < > , in
         Name, nothing after >), has no control bytes, no %, ! or leading
         | in its address, was uploaded with that key, and its address was
         confirmed for that key; stricter: and not since moved to another
         key, removed or revoked.  So a key without a confirmed address is
         served without user IDs.
  id     every key answered for a fingerprint or key id (one armor block
         may hold several) is stored and owns the id: its primary, or a
         subkey bound to it with a back-signature; a stored primary is the
         only answer for its ids; keys binding a subkey validly are all
         answered (up to 8)
  email  by-email answers (VKS, HKP get/index, /api/v1/lookup) only a key
         the address was confirmed for (stricter: last confirmed for, not
         removed or revoked since), with a user ID for it; addresses never
         confirmed are 404 (400 if malformed); used links publish nothing
  refusal  an upload or request-verify that is refused answers 4xx (not
         5xx) and changes no answer (status, ETag, HKP index) of the ids
         and addresses it named; one without hostile user IDs is taken
  mail   a confirmation mail goes only to an address the key carries in
         the strict form and that was asked for (request-verify, or any
         address after HKP add), not for a revoked key, and its attachment
         holds only the user IDs for that address

Output: TAP comment lines ("# ...") on stdout; the counters as KEY VALUE
lines in --result.  Exit 0 when no invariant was violated, 1 otherwise (the
walk stops at the first violation and prints the steps that touched the
keys and addresses involved).
"""

import argparse
import base64
import email
import email.policy
import hashlib
import http.client
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgpcraft as pc  # noqa: E402

FAMILIES = ("uid", "id", "email", "refusal", "mail")
NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank")
DOMAINS = ("x.example", "y.example")
MAX_GEN = 4             # keys per owner (a revoked key is replaced)
MAX_ANSWER = 8          # keys one id lookup answers at most


# --- OpenPGP parsing ----------------------------------------------------------

def dearmor(data):
    """The binary of every PUBLIC KEY BLOCK in data (concatenated)."""
    text = data.decode("ascii", "replace").replace("\r\n", "\n")
    blocks = re.findall(r"-----BEGIN PGP PUBLIC KEY BLOCK-----\n(.*?)"
                        r"-----END PGP PUBLIC KEY BLOCK-----", text, re.S)
    if not blocks:
        raise ValueError("no armored key block")
    out = b""
    for blk in blocks:
        lines = blk.split("\n")
        if "" in lines:                 # headers end at the blank line
            lines = lines[lines.index("") + 1:]
        b64 = "".join(l.strip() for l in lines
                      if l.strip() and not (l.startswith("=") and len(l.strip()) == 5))
        out += base64.b64decode(b64, validate=True)
    return out


def packets(data):
    """[(tag, body)] of a binary packet sequence."""
    out, i, n = [], 0, len(data)

    def need(k):
        if i + k > n:
            raise ValueError("truncated packet")

    while i < n:
        hdr = data[i]
        i += 1
        if not hdr & 0x80:
            raise ValueError("not a packet header")
        if hdr & 0x40:
            tag, body = hdr & 0x3F, b""
            while True:
                need(1)
                l0 = data[i]
                i += 1
                partial = False
                if l0 < 192:
                    ln = l0
                elif l0 < 224:
                    need(1)
                    ln = ((l0 - 192) << 8) + data[i] + 192
                    i += 1
                elif l0 == 255:
                    need(4)
                    ln = int.from_bytes(data[i:i + 4], "big")
                    i += 4
                else:
                    ln, partial = 1 << (l0 & 0x1F), True
                need(ln)
                body += data[i:i + ln]
                i += ln
                if not partial:
                    break
        else:
            tag, lt = (hdr >> 2) & 0x0F, hdr & 3
            if lt == 3:
                ln = n - i
            else:
                k = (1, 2, 4)[lt]
                need(k)
                ln = int.from_bytes(data[i:i + k], "big")
                i += k
            need(ln)
            body = data[i:i + ln]
            i += ln
        out.append((tag, body))
    return out


def v4_fpr(body):
    if not body or body[0] != 4:
        raise ValueError(f"key packet version {body[0] if body else '?'}")
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()


def parse_keys(data):
    """[{fpr, uids: [bytes], subs: [fpr]}] of armored key data."""
    keys = []
    for tag, body in packets(dearmor(data)):
        if tag == 6:
            keys.append({"fpr": v4_fpr(body), "uids": [], "subs": []})
        elif not keys:
            raise ValueError(f"packet tag {tag} before the first primary key")
        elif tag == 13:
            keys[-1]["uids"].append(body)
        elif tag == 14:
            keys[-1]["subs"].append(v4_fpr(body))
    return keys


# --- user IDs ------------------------------------------------------------------

def has_ctl(u):
    return any(b < 0x20 or b == 0x7F for b in u) or re.search(rb"\xc2[\x80-\x9f]", u) is not None


def bad_local(addr):
    """Why the address's local part is refused (routing syntax), or None."""
    local = addr.rsplit("@", 1)[0]
    if "%" in local or "!" in local:
        return "'%' or '!' in the local part"
    if local.startswith("|"):
        return "local part starts with '|'"
    return None


def strict_addr(u):
    """The lower-cased address of user ID bytes u in the strict form
    ("addr", or "Name <addr>" with no @ < > , in Name and nothing after
    the >), or None.  Says nothing about %, ! or |."""
    if has_ctl(u):
        return None
    try:
        s = u.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "<" in s:
        i = s.index("<")
        name, rest = s[:i], s[i + 1:]
        if not rest.endswith(">") or any(c in name for c in "@<>,"):
            return None
        addr = rest[:-1].strip(" ")
    else:
        if any(c in s for c in " <>,"):
            return None
        addr = s
    if any(c in addr for c in "<>, ") or addr.count("@") != 1:
        return None
    local, dom = addr.split("@")
    if not local or "." not in dom:
        return None
    return addr.lower()


def addr_ok(addr):
    """A well-formed address the directory may publish."""
    return strict_addr(addr.encode()) == addr and bad_local(addr) is None


# --- the model -------------------------------------------------------------------

class KeyM:
    """One primary key of an owner and what the server acknowledged."""

    def __init__(self, owner, gen):
        self.owner, self.gen = owner, gen
        seed = f"prop/{owner.name.lower()}/g{gen}"
        self.key = pc.Key(seed)
        self.sig = pc.Key(seed + "/sig")
        self.enc = pc.Cv25519Key(seed + "/enc")
        self.fpr, self.kid = self.key.fpr, self.key.keyid
        self.uploaded = set()           # user ID bytes of every 200 upload
        self.ever = set()               # addresses ever confirmed for it
        self.now = set()                # confirmed and not taken back since
        self.bound_ever = set()         # subkey fprs and kids bound with 02 + backsig
        self.bound_now = set()          # ... only ever so, not removed since
        self.bound_other = set()        # subkey fprs also bound otherwise
        self.present = False            # stored (uploaded, not removed whole)
        self.revoked = None             # step of the acknowledged revocation
        self.hkp_added = False          # HKP add mails every address on it
        self.history = []               # (step, via, uids, subs, revoked, status)
        self.requested = set()          # addresses asked for with request-verify

    @property
    def name(self):
        return f"{self.owner.name}/g{self.gen}"

    def owns(self, q):
        return q in (self.fpr, self.kid) or q in self.bound_ever

    def strict_addrs(self):
        return {a for a in map(strict_addr, self.uploaded) if a}


class Owner:
    def __init__(self, name):
        self.name = name
        self.n = name.lower()
        self.addrs = [f"{self.n}@{d}" for d in DOMAINS]
        self.keys = [KeyM(self, 0)]

    @property
    def cur(self):
        return self.keys[-1]


class Violation(Exception):
    pass


class Http:
    """HTTP/1.1 to keydird: GETs on one kept-alive connection, every POST
    on a fresh one (never retried: a POST must not be sent twice)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = None
        self.count = 0

    @staticmethod
    def _do(conn, method, path, body, headers):
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def get(self, path):
        self.count += 1
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                st, h, data = self._do(self.conn, "GET", path, None, None)
                if h.get("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return st, h, data
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def post(self, path, body, ctype):
        self.count += 1
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            return self._do(conn, "POST", path, body, {"Content-Type": ctype})
        finally:
            conn.close()


def q(s):
    return urllib.parse.quote(s, safe="")


class Walk:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.http = Http(args.url)
        self.authority = urllib.parse.urlsplit(args.url).netloc
        self.owners = [Owner(n) for n in NAMES]
        self.by_fpr = {}                # every key of the pool, by primary fpr
        for o in self.owners:
            self._register(o.cur)
        self.last = {}                  # address -> fpr of its last confirmation
        self.tokens = []                # links from the mail not used yet: [tok, fpr, addr, step]
        self.used = []                  # links a POST used (200): [tok, fpr, addr]
        self.seen_mail = set()
        self.log = []                   # (step, text, touched)
        self.step = 0
        self.viol = []
        self.c = {k: 0 for k in (
            "steps", "sweeps", "uploads_vks", "uploads_hkp", "uploads_ok",
            "uploads_refused", "hostile_uploads", "hostile_refused",
            "hostile_accepted", "attack_uploads", "attack_accepted",
            "collisions", "cross_signed", "verify_requests",
            "verify_refused", "mails", "confirm_mails", "confirmations",
            "confirm_refused", "replacements", "rejects", "replays",
            "revocations", "removals_all", "removals_one",
            "removals_refused", "multi_answers", "primary_over_sub",
            "subkey_answers", "email_answers", "http_requests")}
        for f in FAMILIES:
            self.c["checks_" + f] = 0
            self.c["viol_" + f] = 0

    def _register(self, k):
        self.by_fpr[k.fpr] = k

    def keys(self):
        return [k for o in self.owners for k in o.keys]

    # --- bookkeeping ----------------------------------------------------

    def fail(self, family, msg, touched=()):
        self.c["viol_" + family] += 1
        self.viol.append((family, msg, set(touched)))

    def check(self, family, cond, msg, touched=()):
        """Count a check; on failure record msg (a string, or a function
        making it: messages are built only for failures)."""
        self.c["checks_" + family] += 1
        if not cond:
            self.fail(family, msg() if callable(msg) else msg, touched)
        return cond

    def note(self, text, touched):
        self.log.append((self.step, text, set(touched)))

    # --- mail -------------------------------------------------------------

    def unsent(self):
        """The outbox's unsent mail, as `keydird state` counts it.  When
        that fails the walk ends (exit 2): a drain that cannot see the
        outbox would let mail checks pass on mail not delivered yet."""
        cmd = [self.a.keydird, "state", "--data-dir", self.a.data_dir]
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=30)
            n = json.loads(p.stdout)["outbox"]["unsent"] if p.returncode == 0 else None
        except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as e:
            p, n = None, repr(e)
        if not isinstance(n, int):
            why = n if p is None else (f"status {p.returncode}: "
                                       f"{p.stderr.decode(errors='replace').strip()[-300:]}")
            print(f"# prop.py: {' '.join(cmd)} failed at step {self.step}: {why}")
            sys.exit(2)
        return n

    def drain(self):
        """Wait (bounded) until keydird's outbox has no unsent mail."""
        t0 = time.time()
        while self.unsent() > 0 and time.time() - t0 < 5:
            time.sleep(0.005)

    def scan_mail(self):
        """Read the mails that arrived since the last scan; check each
        confirmation mail and keep its link."""
        self.drain()
        new = []
        for sub in ("new", "cur"):
            d = os.path.join(self.a.maildir, sub)
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            new += [(n, os.path.join(d, n)) for n in names if n not in self.seen_mail]
        for name, path in sorted(new):
            self.seen_mail.add(name)
            self.c["mails"] += 1
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            self.check_mail(name, msg)

    def check_mail(self, name, msg):
        to = str(msg["to"] or "").strip().strip("<>").lower()
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body else ""
        link = re.search(r"/verify/([A-Za-z0-9_-]{43})\b", text)
        if not link:
            return                      # a notice ("your key ... is now")
        self.c["confirm_mails"] += 1
        m = re.search(r"for the address (\S+?):\s+((?:[0-9A-F]{4} ?){10})", text)
        if not self.check("mail", m is not None,
                          f"mail {name} to {to}: no address and fingerprint in the body", [to]):
            return
        addr, fpr = m.group(1).lower(), m.group(2).replace(" ", "")
        t = [to, fpr]
        self.check("mail", addr == to, f"mail {name}: To {to} but body names {addr}", t)
        k = self.by_fpr.get(fpr)
        if not self.check("mail", k is not None, f"mail {name} to {to}: unknown key {fpr}", t):
            return
        self.check("mail", addr in k.strict_addrs(),
                   f"mail {name}: {addr} is not the address of a strict user ID uploaded with {k.name}", t)
        self.check("mail", addr in k.requested or k.hkp_added,
                   f"mail {name}: nobody asked to confirm {addr} for {k.name}", t)
        self.check("mail", addr_ok(addr), f"mail {name}: to a malformed address {addr!r}", t)
        self.check("mail", k.revoked is None or k.revoked == self.step,
                   f"mail {name}: confirmation for {addr} of {k.name}, revoked at step {k.revoked}", t)
        for att in msg.iter_attachments():
            fn = str(att.get_filename())
            try:
                served = parse_keys(att.get_payload(decode=True))
            except ValueError as e:
                self.fail("mail", f"mail {name}: attachment {fn} unreadable: {e}", t)
                continue
            for key in served:
                if key["fpr"] == fpr:
                    # as it would be published with this one address
                    for u in key["uids"]:
                        self.check("mail", strict_addr(u) == addr and u in k.uploaded,
                                   f"mail {name}: attachment {fn} of {k.name} has user ID {u!r}, "
                                   f"not an uploaded one for {addr}", t)
                else:
                    self.check_served(key, f"mail {name} attachment {fn}", strict=False)
        self.tokens.append([link.group(1), fpr, addr, self.step])

    # --- observation --------------------------------------------------------

    def check_uid(self, km, u, src, strict=True):
        """One served user ID u of key km (strict: also against what was
        taken back since: moved, removed, revoked)."""
        t = [km.fpr]
        c = self.check
        if not c("uid", not has_ctl(u),
                 lambda: f"{src}: {km.name} serves user ID {u!r} with a control byte", t):
            return
        addr = strict_addr(u)
        if not c("uid", addr is not None,
                 lambda: f"{src}: {km.name} serves user ID {u!r}, not in the strict form", t):
            return
        t.append(addr)
        c("uid", bad_local(addr) is None, lambda: f"{src}: {km.name} serves {u!r}: {bad_local(addr)}", t)
        c("uid", u in km.uploaded, lambda: f"{src}: {km.name} serves user ID {u!r}, never uploaded with it", t)
        c("uid", addr in km.ever, lambda: f"{src}: {km.name} serves {u!r}, {addr} never confirmed for it", t)
        if strict:
            last = self.last.get(addr)
            c("uid", km.revoked is None,
              lambda: f"{src}: {km.name}, revoked at step {km.revoked}, serves {u!r}", t)
            c("uid", addr in km.now and last == km.fpr,
              lambda: f"{src}: {km.name} serves {u!r}, but {addr} was since " +
              (f"confirmed for {self.by_fpr[last].name}" if last not in (None, km.fpr)
               else "removed or revoked"), t)

    def check_served(self, key, src, strict=True):
        km = self.by_fpr.get(key["fpr"])
        if not self.check("id", km is not None, f"{src}: served an unknown key {key['fpr']}", [key["fpr"]]):
            return None
        for u in key["uids"]:
            self.check_uid(km, u, src, strict)
        return km

    def fetch_keys(self, path, src, touched):
        """(status, etag, [served key dicts]) of a key lookup."""
        st, h, data = self.http.get(path)
        if st == 200:
            try:
                keys = parse_keys(data)
            except (ValueError, base64.binascii.Error) as e:
                self.fail("id", f"{src}: 200 but unreadable: {e}: {data[:200]!r}", touched)
                return st, None, []
            self.check("id", len(keys) >= 1, f"{src}: 200 without a key", touched)
            return st, h.get("etag"), keys
        return st, None, []

    def fetch_index(self, path, src, touched):
        """(status, body, [(fpr, [uid bytes])]) of an HKP index."""
        st, h, data = self.http.get(path)
        out = []
        if st != 200:
            return st, data, out
        for line in data.decode("utf-8", "replace").split("\r\n"):
            f = line.split(":")
            if f[0] == "pub" and len(f) > 1:
                out.append((f[1].upper(), []))
            elif f[0] == "uid":
                if not self.check("id", bool(out), f"{src}: uid line before a pub line", touched):
                    continue
                out[-1][1].append(urllib.parse.unquote_to_bytes(f[1] if len(f) > 1 else ""))
        return st, data, out

    def check_id(self, qid, touched=(), full=True):
        """The lookups of a fingerprint or key id qid: VKS and HKP get, and
        the HKP index when full or qid is a fingerprint."""
        t = set(touched) | {qid}
        vks = f"/vks/v1/by-{'fingerprint' if len(qid) == 40 else 'keyid'}/{qid}"
        answers = {}
        for src, path in (("VKS " + vks, vks),
                          (f"HKP get 0x{qid}", f"/pks/lookup?op=get&options=mr&search=0x{qid}")):
            st, _, keys = self.fetch_keys(path, src, t)
            self.check("id", st in (200, 404), f"{src}: status {st}", t)
            kms = [self.check_served(k, src) for k in keys]
            answers[src] = sorted(k["fpr"] for k in keys)
            self.check_owned(qid, [k for k in kms if k], src, t)
        if not full and len(qid) != 40:
            self.check("id", answers[src] == answers["VKS " + vks],
                       lambda: f"{qid}: the lookups disagree: {answers}", t)
            return
        src = f"HKP index 0x{qid}"
        st, _, idx = self.fetch_index(f"/pks/lookup?op=index&options=mr&search=0x{qid}", src, t)
        self.check("id", st in (200, 404), f"{src}: status {st}", t)
        kms = []
        for fpr, uids in idx:
            km = self.by_fpr.get(fpr)
            if self.check("id", km is not None, f"{src}: lists an unknown key {fpr}", t):
                kms.append(km)
                for u in uids:
                    self.check_uid(km, u, src)
        answers[src] = sorted(f for f, _ in idx)
        self.check_owned(qid, kms, src, t)
        vals = list(answers.values())
        self.check("id", all(v == vals[0] for v in vals),
                   f"{qid}: the lookups disagree: {answers}", t)

    def check_owned(self, qid, kms, src, t):
        """Invariant 2 on the keys kms answered for qid."""
        t = set(t) | {k.fpr for k in kms}
        for km in kms:
            self.check("id", km.present,
                       lambda: f"{src}: answers {km.name}, which was never stored or was removed whole", t)
            self.check("id", km.owns(qid),
                       lambda: f"{src}: answers {km.name}, which does not own {qid} "
                       f"(neither its primary nor a subkey bound with a back-signature)", t)
        prim = [k for k in kms if qid in (k.fpr, k.kid)]
        self.check("id", not prim or len(prim) == len(kms),
                   lambda: f"{src}: answers {[k.name for k in kms]}: the primary owner of {qid} "
                   f"together with keys holding it as a subkey", t)
        holders = [k for k in self.keys() if k.present and qid in (k.fpr, k.kid)]
        got = {k.fpr for k in kms}
        if holders:
            self.check("id", got == {k.fpr for k in holders},
                       lambda: f"{src}: answers {[k.name for k in kms]}, but {[k.name for k in holders]} "
                       f"is stored with {qid} as its primary", t)
            if any(qid in k.bound_ever for k in self.keys() if k not in holders):
                self.c["primary_over_sub"] += 1
        else:
            want = [k for k in self.keys() if k.present and k.revoked is None
                    and qid in k.bound_now]
            if len(want) <= MAX_ANSWER:
                self.check("id", {k.fpr for k in want} <= got,
                           lambda: f"{src}: answers {[k.name for k in kms]}, but {[k.name for k in want]} "
                           f"bind {qid} with a back-signature", t | {k.fpr for k in want})
            if kms:
                self.c["subkey_answers"] += 1
        if len(kms) > 1:
            self.c["multi_answers"] += 1

    def check_addr(self, addr, touched=()):
        """Every lookup by address."""
        t = set(touched) | {addr}
        ever = [k for k in self.keys() if addr in k.ever]
        for src, path in (("VKS by-email", f"/vks/v1/by-email/{q(addr)}"),
                          ("HKP get", f"/pks/lookup?op=get&options=mr&search={q(addr)}")):
            src = f"{src} {addr}"
            st, _, keys = self.fetch_keys(path, src, t)
            kms = [k for k in (self.check_served(k, src) for k in keys) if k]
            fprs = [k.fpr for k in kms]
            self.check_email(addr, st, fprs, src, t)
            for km, key in zip(kms, keys):
                self.check("email", any(strict_addr(u) == addr for u in key["uids"]),
                           lambda: f"{src}: answers {km.name} without a user ID for {addr}", t | {km.fpr})
        src = f"HKP index {addr}"
        st, _, idx = self.fetch_index(f"/pks/lookup?op=index&options=mr&search={q(addr)}", src, t)
        for fpr, uids in idx:
            km = self.by_fpr.get(fpr)
            if self.check("id", km is not None, f"{src}: lists an unknown key {fpr}", t):
                for u in uids:
                    self.check_uid(km, u, src)
        self.check_email(addr, st, [f for f, _ in idx], src, t)
        src = f"/api/v1/lookup {addr}"
        st, _, data = self.http.get(f"/api/v1/lookup/{q(addr)}")
        fprs = []
        if st == 200:
            try:
                j = json.loads(data)
                fprs = [j["fingerprint"].upper()]
                km = self.by_fpr.get(fprs[0])
                self.check("email", km is not None and j.get("keyid", "").upper() == km.kid,
                           f"{src}: {data[:200]!r}: unknown key or wrong key id", t)
            except (ValueError, KeyError, AttributeError) as e:
                self.fail("email", f"{src}: 200 but not the JSON answer: {e}: {data[:200]!r}", t)
        self.check_email(addr, st, fprs, src, t)
        if not ever:
            self.check("email", st in (404, 400) if not addr_ok(addr) else st == 404,
                       f"{src}: never confirmed for any key, but status {st}", t)

    def check_email(self, addr, st, fprs, src, t):
        """Invariant 3 on one by-address answer (fprs of the keys in it)."""
        ok_addr = addr_ok(addr)
        if not self.check("email", st in ((200, 404) if ok_addr else (200, 400, 404)),
                          f"{src}: status {st}", t):
            return
        if st != 200:
            return
        self.c["email_answers"] += 1
        self.check("email", len(fprs) == 1, f"{src}: answers {len(fprs)} keys", t | set(fprs))
        for fpr in fprs:
            km = self.by_fpr.get(fpr)
            if km is None:
                self.fail("email", f"{src}: answers unknown key {fpr}", t)
                continue
            tt = t | {fpr}
            if not self.check("email", addr in km.ever,
                              f"{src}: answers {km.name}, {addr} never confirmed for it", tt):
                continue
            last = self.last.get(addr)
            self.check("email", km.revoked is None,
                       lambda: f"{src}: answers {km.name}, revoked at step {km.revoked}", tt)
            self.check("email", last == fpr,
                       lambda: f"{src}: answers {km.name}, but {addr} was last confirmed for "
                       f"{self.by_fpr[last].name}", tt | {last})
            self.check("email", addr in km.now,
                       lambda: f"{src}: answers {km.name}, but {addr} was removed from it since", tt)

    def snapshot(self, ids, addrs):
        """What a refused request must not change: status + ETag of every
        VKS lookup of ids and addrs, the HKP index of ids."""
        s = {}
        for i in sorted(ids):
            kind = "fingerprint" if len(i) == 40 else "keyid"
            st, h, _ = self.http.get(f"/vks/v1/by-{kind}/{i}")
            s[("vks", i)] = (st, h.get("etag"))
            if len(i) == 40:
                st, _, data = self.http.get(f"/pks/lookup?op=index&options=mr&search=0x{i}")
                s[("index", i)] = (st, data)
        for a in sorted(addrs):
            st, h, _ = self.http.get(f"/vks/v1/by-email/{q(a)}")
            s[("email", a)] = (st, h.get("etag"))
            st, _, data = self.http.get(f"/api/v1/lookup/{q(a)}")
            s[("lookup", a)] = (st, data)
        return s

    def check_unchanged(self, before, ids, addrs, what):
        after = self.snapshot(ids, addrs)
        for k, v in before.items():
            self.check("refusal", after[k] == v,
                       f"{what}: refused, but {k[0]} {k[1]} changed: {str(v)[:120]} -> {str(after[k])[:120]}",
                       set(ids) | set(addrs))

    def sweep(self, final=False):
        self.c["sweeps"] += 1
        for k in self.keys():
            for key in (k.key, k.sig, k.enc):
                self.check_id(key.fpr)
                self.check_id(key.keyid)
        addrs = {a for o in self.owners for a in o.addrs} | {"nobody@x.example"}
        for k in self.keys():
            addrs |= {a for a in k.strict_addrs()}
        addrs |= set(self.hostile_addrs(self.owners[0], self.owners[1]))
        for a in sorted(addrs):
            self.check_addr(a)
        self.note(f"{'final ' if final else ''}sweep", ())

    # --- steps ----------------------------------------------------------------

    def victim(self, o):
        return self.rng.choice([x for x in self.owners if x is not o])

    def hostile_addrs(self, o, v):
        return [f"{o.n}%{v.n}@x.example", f"{o.n}!{v.n}@y.example", f"|{o.n}@x.example"]

    def make_uids(self, o):
        """A random list of user IDs for owner o: (uids, hostile, victims)."""
        r = self.rng
        ax, ay = o.addrs
        honest = [f"{o.name} <{ax}>", ay, f"{o.name} <{ay}>", f"{o.name} Work <{ax}>", ax]
        uids = [u for u in honest if r.random() < 0.4]
        hostile, victims = [], set()
        if r.random() < 0.08:           # another owner's address, honest form
            v = self.victim(o)
            a = r.choice(v.addrs)
            uids.append(f"{o.name} <{a}>")
            victims.add(a)
        if r.random() < 0.35:
            for _ in range(r.choice((1, 1, 2))):
                v = self.victim(o)
                va = r.choice(v.addrs)
                victims.add(va)
                kind, u = r.choice([
                    ("addr-in-name", f"{va} <{ay}>"),
                    ("comma-list", f"{va}, {o.name} <{ax}>"),
                    ("nul", f"{o.name} <{ax}>\0<{va}>"),
                    ("crlf", f"{o.name} <{ax}>\r\nBcc: {va}"),
                    ("lf-name", f"{o.name}\n <{ay}>"),
                    ("cr-addr", f"{o.name} <{o.n}\r@x.example>"),
                    ("percent", f"{o.name} <{o.n}%{v.n}@x.example>"),
                    ("bang", f"{o.n}!{v.n}@y.example"),
                    ("pipe", f"|{o.n}@x.example"),
                    ("pipe-named", f"{o.name} <|{o.n}@y.example>"),
                    ("two-brackets", f"{o.name} <{ax}> <{va}>"),
                    ("after-gt", f"{o.name} <{ay}> {va}"),
                ])
                hostile.append(kind)
                uids.append(u)
        if self.a.dup_uids and uids and r.random() < 0.05:
            # the same user ID packet and self-signature twice
            hostile.append("duplicate")
            uids.append(r.choice(uids))
        else:
            uids = list(dict.fromkeys(uids))
        r.shuffle(uids)
        return [u.encode() for u in uids], hostile, victims

    def make_subs(self, o, k):
        """Random subkeys for key k of owner o: [(Subkey, label)]."""
        r = self.rng
        subs = []
        if r.random() < 0.6:
            subs.append((pc.Subkey(k.sig, 0x02, "yes"), "own-sig"))
        if r.random() < 0.4:
            subs.append((pc.Subkey(k.enc, 0x0C, "no"), "own-enc"))
        if r.random() < 0.3:
            for _ in range(r.choice((1, 1, 2))):
                v = self.victim(o)
                vk = r.choice(v.keys[-2:])
                which = r.choice(("primary", "sig"))
                key = pc.Key(vk.key.seed) if which == "primary" else vk.sig
                flags = r.choice((None, 0x01, 0x02))
                back = r.choice(("no", "bad"))
                subs.append((pc.Subkey(key, flags, back),
                             f"attack:{vk.name}.{which}:{'none' if flags is None else '%02x' % flags}:{back}"))
        if r.random() < 0.06:           # a key that signed back: a real shared subkey
            v = self.victim(o)
            vk = r.choice(v.keys[-2:])
            which = r.choice(("primary", "sig", "sig"))
            key = pc.Key(vk.key.seed) if which == "primary" else vk.sig
            subs.append((pc.Subkey(key, 0x02, "yes"), f"cross:{vk.name}.{which}:02:yes"))
        return subs

    def pick_key(self, o):
        if len(o.keys) > 1 and self.rng.random() < 0.1:
            return self.rng.choice(o.keys[:-1])
        return o.cur

    def upload(self, via, revoked=False, owners=None):
        r = self.rng
        o = r.choice(owners or self.owners)
        k = o.cur if revoked else self.pick_key(o)
        uids, hostile, victims = self.make_uids(o)
        if revoked:
            uids = [u for u, h in zip(uids, [strict_addr(u) for u in uids]) if h and addr_ok(h)]
            uids = list(dict.fromkeys(uids))  # each user ID once
            hostile, subs = [], [(pc.Subkey(k.sig, 0x02, "yes"), "own-sig")]
        else:
            subs = self.make_subs(o, k)
        data = pc.armor(pc.cert(k.key, uids, [s for s, _ in subs], revoked=revoked))
        attack = [lab for _, lab in subs if lab.startswith("attack")]
        ids = {k.fpr, k.kid}
        for s, _ in subs:
            ids |= {s.key.fpr, s.key.keyid}
        addrs = set(o.addrs) | victims | {a for a in map(strict_addr, uids) if a}
        touched = ids | addrs
        # an upload without hostile user IDs must not be refused at all
        before = self.snapshot(ids, addrs) if hostile else None
        if via == "vks":
            self.c["uploads_vks"] += 1
            st, _, body = self.http.post("/vks/v1/upload", json.dumps({"keytext": data}),
                                         "application/json")
        else:
            self.c["uploads_hkp"] += 1
            st, _, body = self.http.post("/pks/add", "keytext=" + urllib.parse.quote_plus(data),
                                         "application/x-www-form-urlencoded")
        desc = (f"upload {via} {k.name}{' REVOKED' if revoked else ''} uids={uids!r} "
                f"subs={[lab for _, lab in subs]} -> {st}")
        k.history.append((self.step, via, uids, [(s.key.seed, type(s.key).__name__, s.flags, s.backsig)
                                                for s, _ in subs], revoked, st))
        if hostile:
            self.c["hostile_uploads"] += 1
        if attack:
            self.c["attack_uploads"] += 1
        if st != 200:
            self.c["uploads_refused"] += 1
            self.note(desc + f" {body[:160]!r}", touched)
            self.check("refusal", 400 <= st < 500, f"{desc}: status {st} {body[:200]!r}", touched)
            self.check("refusal", hostile,
                       f"{desc}: an upload without a hostile user ID was refused: {body[:200]!r}", touched)
            if hostile:
                self.c["hostile_refused"] += 1
                self.check_unchanged(before, ids, addrs, desc)
            self.after_step(ids, addrs, touched)
            return
        # acknowledged: the model takes it
        self.c["uploads_ok"] += 1
        if hostile:
            self.c["hostile_accepted"] += 1
        if attack:
            self.c["attack_accepted"] += 1
        k.present = True
        k.uploaded |= set(uids)
        for s, lab in subs:
            sk = s.key
            for other in self.keys():
                if other is not k and sk.fpr in (other.fpr, other.sig.fpr):
                    self.c["collisions"] += 1
            if s.flags == 0x02 and s.backsig == "yes":
                k.bound_ever |= {sk.fpr, sk.keyid}
                if sk.fpr not in k.bound_other:
                    k.bound_now |= {sk.fpr, sk.keyid}
                if lab.startswith("cross"):
                    self.c["cross_signed"] += 1
            else:
                k.bound_other.add(sk.fpr)
                k.bound_now -= {sk.fpr, sk.keyid}
        if revoked:
            self.c["revocations"] += 1
            k.revoked = self.step
            k.now.clear()
            if len(o.keys) < MAX_GEN:
                o.keys.append(KeyM(o, len(o.keys)))
                self._register(o.cur)
        if via == "hkp":
            k.hkp_added = True
        else:
            try:
                j = json.loads(body)
                tok, status = j["token"], j["status"]
            except (ValueError, KeyError, TypeError) as e:
                self.fail("refusal", f"{desc}: not the VKS answer: {e}: {body[:200]!r}", touched)
                self.after_step(ids, addrs, touched)
                return
            # the session covers the addresses of this upload; status
            # also names those the stored key has published already
            mine = {a for a in map(strict_addr, uids) if a}
            want = [a for a in sorted(status) if a in mine and r.random() < 0.7]
            bad = []
            if r.random() < 0.15:
                v = self.victim(o)
                bad = [r.choice(self.hostile_addrs(o, v) + [r.choice(v.addrs), "nobody@x.example"]
                                + sorted(set(o.addrs) - mine))]
            req = want + bad
            r.shuffle(req)
            if req:
                desc += f" request-verify {req}"
                before = self.snapshot(ids, addrs | set(req)) if bad else None
                self.c["verify_requests"] += 1
                st2, _, body2 = self.http.post(
                    "/vks/v1/request-verify", json.dumps({"token": tok, "addresses": req}),
                    "application/json")
                desc += f" -> {st2}"
                if st2 == 200:
                    k.requested |= {a.lower() for a in req}
                else:
                    self.c["verify_refused"] += 1
                    desc += f" {body2[:120]!r}"
                    self.check("refusal", 400 <= st2 < 500, f"{desc}: status {st2}", touched)
                    self.check("refusal", bool(bad) or k.revoked is not None,
                               f"{desc}: request-verify of the key's own addresses refused", touched)
                    if before is not None:
                        self.check_unchanged(before, ids, addrs | set(req), desc)
        self.note(desc, touched)
        self.after_step(ids, addrs, touched)

    def use_token(self, reject):
        self.scan_mail()
        if not self.tokens:
            self.note("no link to use", ())
            return
        # which link is drawn from its own generator: the links that exist
        # depend on the mail rate limit (timing), the main walk must not
        i = random.Random(f"{self.a.seed}/{self.step}").randrange(len(self.tokens))
        tok, fpr, addr, _ = self.tokens.pop(i)
        k = self.by_fpr[fpr]
        path = f"/verify/{tok}" + ("/reject" if reject else "")
        st, _, body = self.http.post(path, "", "application/x-www-form-urlencoded")
        touched = {fpr, addr}
        prev = self.last.get(addr)
        published = st == 200 and b"now published" in body
        desc = f"{'reject' if reject else 'confirm'} {addr} for {k.name} -> {st}{' published' if published else ''}"
        if st == 200:
            self.used.append((tok, fpr, addr))
        if reject:
            self.c["rejects"] += 1
            self.check("email", st != 200 or b"discarded" in body,
                       f"{desc}: 200 without discarding", touched)
        elif published:
            self.c["confirmations"] += 1
            self.check("email", k.revoked is None,
                       f"{desc}: published for a key revoked at step {k.revoked}", touched)
            k.ever.add(addr)
            k.now.add(addr)
            self.last[addr] = fpr
            if prev not in (None, fpr):
                self.c["replacements"] += 1
                touched.add(prev)
                desc += f" (replaces {self.by_fpr[prev].name})"
        else:
            self.c["confirm_refused"] += 1
        self.note(desc, touched)
        ids = {k.fpr, k.kid} | ({prev} if prev else set())
        self.after_step(ids, {addr}, touched)

    def replay(self):
        if not self.used:
            self.note("no link to replay", ())
            return
        tok, fpr, addr = random.Random(f"{self.a.seed}/{self.step}").choice(self.used)
        st, _, body = self.http.post(f"/verify/{tok}", "", "application/x-www-form-urlencoded")
        self.c["replays"] += 1
        touched = {fpr, addr}
        self.check("email", st != 200, f"replayed link for {addr} of {self.by_fpr[fpr].name}: {st}", touched)
        self.note(f"replay link {addr} for {self.by_fpr[fpr].name} -> {st}", touched)
        self.after_step({fpr}, {addr}, touched)

    def remove(self):
        r = self.rng
        o = r.choice(self.owners)
        ks = [k for k in o.keys if k.present] or [o.cur]
        k = r.choice(ks)
        if r.random() < 0.4:
            what = "all"
        else:
            what = r.choice(sorted(set(o.addrs) | k.strict_addrs()))
            # mostly an address published now: which ones are depends on
            # the links, so drawn from the step's own generator
            sr = random.Random(f"{self.a.seed}/{self.step}")
            if k.now and sr.random() < 0.7:
                what = sr.choice(sorted(k.now))
        now = int(time.time())
        text = (f"keydir-request: remove\nserver: {self.authority}\nfingerprint: {k.fpr}\n"
                f"addresses: {what}\nnonce: {r.getrandbits(128):032x}\n"
                f"date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))}\n")
        signed = pc.clearsign(k.key, text, created=now)
        st, _, body = self.http.post("/api/v1/remove", signed, "text/plain")
        touched = {k.fpr} | (set(o.addrs) | k.now if what == "all" else {what})
        desc = f"remove {k.name} addresses: {what} -> {st} {body[:100]!r}"
        if st == 200:
            try:
                j = json.loads(body)
            except ValueError:
                j = {}
            self.check("email", j.get("fingerprint") == k.fpr, f"{desc}: wrong answer", touched)
            if what == "all":
                self.c["removals_all"] += 1
                k.now.clear()
                k.bound_now.clear()
                if k.revoked is None:
                    k.present = False   # a revoked key leaves its tombstone
            else:
                self.c["removals_one"] += 1
                k.now.discard(what)
        else:
            self.c["removals_refused"] += 1
        self.note(desc, touched)
        self.after_step({k.fpr, k.kid, k.sig.fpr, k.sig.keyid}, touched - {k.fpr}, touched)

    def after_step(self, ids, addrs, touched):
        self.scan_mail()
        for i in sorted(ids):
            self.check_id(i, touched, full=False)
        for a in sorted(addrs):
            self.check_addr(a, touched)

    def one_step(self):
        x = self.rng.random()
        if x < 0.30:
            self.upload("vks")
        elif x < 0.45:
            self.upload("hkp")
        elif x < 0.75:
            self.use_token(False)
        elif x < 0.82:
            self.use_token(True)
        elif x < 0.84:
            self.replay()
        elif x < 0.855:
            o_ok = [o for o in self.owners if len(o.keys) < MAX_GEN]
            if o_ok:
                self.upload(self.rng.choice(("vks", "hkp")), revoked=True, owners=o_ok)
            else:
                self.upload("vks")
        elif x < 0.89:
            self.remove()
        else:
            self.upload("vks")

    # --- the run ------------------------------------------------------------------

    def report(self):
        fam, msg, touched = self.viol[0]
        out = [f"VIOLATION ({fam}) at step {self.step}, seed {self.a.seed}: {msg}"]
        for f, m, _ in self.viol[1:6]:
            out.append(f"  also ({f}): {m}")
        rel = [e for e in self.log if e[2] & touched]
        tail = self.log[-8:]
        out.append(f"steps that touched {sorted(x for x in touched if x)} "
                   f"({len(rel)} of {len(self.log)}), then the last ones:")
        seen = set()
        for st, text, _ in rel + tail:
            if (st, text) in seen:
                continue
            seen.add((st, text))
            out.append(f"  step {st}: {text}")
        return out

    def run(self):
        t0 = time.time()
        deadline = t0 + self.a.seconds
        try:
            while self.step < self.a.steps and time.time() < deadline and not self.viol:
                self.step += 1
                self.one_step()
                self.c["steps"] = self.step
                if self.step % self.a.sweep == 0 and not self.viol:
                    self.sweep()
            if not self.viol:
                self.sweep(final=True)
        except (OSError, http.client.HTTPException) as e:
            self.fail("id", f"HTTP failed at step {self.step}: {e!r}")
        self.c["seconds"] = round(time.time() - t0, 1)
        self.c["http_requests"] = self.http.count
        self.c["keys"] = len(self.keys())
        for line in (self.report() if self.viol else []):
            print("# " + line)
        if self.viol and self.a.repro:
            touched = self.viol[0][2]
            with open(self.a.repro, "w") as f:
                json.dump({k.name: {"seed": k.key.seed, "fpr": k.fpr, "uploads": [
                    {"step": st, "via": via, "uids": [u.hex() for u in uids], "subs": subs,
                     "revoked": rev, "status": code}
                    for st, via, uids, subs, rev, code in k.history]}
                    for k in self.keys() if k.fpr in touched}, f, indent=1)
            print(f"# the uploads of the keys involved, to replay: {self.a.repro}")
        if self.a.log:
            with open(self.a.log, "w") as f:
                for st, text, _ in self.log:
                    f.write(f"step {st}: {text}\n")
        if self.a.result:
            with open(self.a.result, "w") as f:
                for k, v in self.c.items():
                    f.write(f"{k} {v}\n")
        return 1 if self.viol else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="keydird's base URL")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--data-dir", required=True,
                    help="for keydird state (wait until the outbox is sent)")
    ap.add_argument("--keydird", default=os.environ.get("KEYDIRD", "keydird"),
                    help="the keydird binary, for keydird state (default: $KEYDIRD)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--sweep", type=int, default=50, help="full sweep every N steps")
    ap.add_argument("--result", help="write the counters here")
    ap.add_argument("--log", help="write the step log here")
    ap.add_argument("--no-dup-uids", dest="dup_uids", action="store_false",
                    help="never upload certs holding one user ID packet twice")
    ap.add_argument("--repro", help="on a violation, write the uploads of the keys involved here")
    w = Walk(ap.parse_args())
    print(f"# prop.py: seed {w.a.seed}, at most {w.a.steps} steps or {w.a.seconds:g} s")
    rc = w.run()
    print(f"# prop.py: {w.c['steps']} steps in {w.c['seconds']} s, {w.c['sweeps']} sweeps, "
          f"{w.c['http_requests']} requests")
    return rc


if __name__ == "__main__":
    sys.exit(main())
