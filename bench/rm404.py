#!/usr/bin/env python3
# rm404.py ADDRS NODE1 NODE2 MAILDIR...: removal to 404 on two nodes of
# one directory (bench/run.sh, STORE=pg).
#
# ADDRS holds published addresses, one a line.  For each: a manage link
# is asked for (POST /api/v1/manage on NODE1) and taken from whichever
# node's Maildir the mail lands in.  Then, one key at a time: its
# by-email lookup on both nodes until each has answered 200 three times
# (caches warm), then the link's POST (the removal, committed before its
# answer) through NODE1 for even keys and NODE2 for odd ones, while both
# nodes are polled every POLL ms (one keep-alive connection each) until
# both answer 404.  Times are from the moment the POST is sent.
#
# Prints one line per key ("addr via=N post_ms=.. n1_ms=.. n2_ms=..
# last_ms=..") and a last line:
#   k=K median_ms=.. max_ms=.. answer_median_ms=.. answer_max_ms=..
#   post_median_ms=.. failed=F
# where last_ms (median_ms, max_ms) is from the POST sent to the later of
# the two nodes' first 404, answer_* the same from the POST's answer
# (0 when both nodes answered 404 before it), and failed counts keys
# whose removal was refused or whose 404 did not come within TIMEOUT.
import email, email.policy, glob, http.client, json, os, re, statistics
import sys, threading, time
from urllib.parse import urlsplit

POLL = float(os.environ.get("RM404_POLL_MS", "5")) / 1000
TIMEOUT = float(os.environ.get("RM404_TIMEOUT", "10"))
MAIL_WAIT = float(os.environ.get("RM404_MAIL_WAIT", "120"))

addrs = [a.strip() for a in open(sys.argv[1]) if a.strip()]
nodes = sys.argv[2:4]
maildirs = sys.argv[4:]


class Node:
    """Keep-alive HTTP/1.1 to one node; reconnects when it drops."""

    def __init__(self, url):
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.c = None

    def req(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(self.host,
                                                        self.port, timeout=10)
                self.c.request(method, path, body, headers or {})
                r = self.c.getresponse()
                r.read()
                return r.status
            except (OSError, http.client.HTTPException):
                self.c = None
                if attempt:
                    raise
        return 0


def mail_links():
    """address -> manage token, from every mail in the Maildirs."""
    links = {}
    for d in maildirs:
        for f in glob.glob(os.path.join(d, "new", "*")) + \
                glob.glob(os.path.join(d, "cur", "*")):
            try:
                with open(f, "rb") as fh:
                    m = email.message_from_binary_file(
                        fh, policy=email.policy.default)
            except OSError:
                continue
            to = re.sub(r"^.*<|>.*$", "", str(m["to"] or "")).lower()
            b = m.get_body(preferencelist=("plain",))
            t = re.search(r"/manage/([A-Za-z0-9_-]{43})",
                          b.get_content() if b else "")
            if t:
                links[to] = t.group(1)
    return links


def ask_links():
    n1 = Node(nodes[0])
    for a in addrs:
        st = n1.req("POST", "/api/v1/manage", json.dumps({"address": a}),
                    {"Content-Type": "application/json"})
        if st != 200:
            sys.exit(f"rm404: POST /api/v1/manage for {a}: HTTP {st}")
    t0 = time.monotonic()
    while True:
        links = mail_links()
        if all(a.lower() in links for a in addrs):
            return links
        if time.monotonic() - t0 > MAIL_WAIT:
            sys.exit(f"rm404: {len(links)} of {len(addrs)} manage mails "
                     f"after {MAIL_WAIT:.0f} s")
        time.sleep(0.2)


def one(i, a, tok):
    path = "/vks/v1/by-email/" + a
    polls = [Node(n) for n in nodes]
    for p in polls:
        for _ in range(3):
            if p.req("GET", path) != 200:
                return None
    via = i % 2
    post = {}

    def remove():
        c = Node(nodes[via])
        post["status"] = c.req("POST", "/manage/" + tok, b"",
                               {"Content-Type":
                                "application/x-www-form-urlencoded"})
        post["t"] = time.monotonic()

    th = threading.Thread(target=remove)
    t0 = time.monotonic()
    th.start()
    seen = [None, None]
    while None in seen and time.monotonic() - t0 < TIMEOUT:
        tick = time.monotonic()
        for j, p in enumerate(polls):
            if seen[j] is None and p.req("GET", path) == 404:
                seen[j] = time.monotonic() - t0
        time.sleep(max(0.0, POLL - (time.monotonic() - tick)))
    th.join()
    if post.get("status") != 200 or None in seen:
        print(f"{a} via={via + 1} post={post.get('status')} "
              f"n1={seen[0]} n2={seen[1]} FAILED", flush=True)
        return None
    last = max(seen)
    pt = post["t"] - t0
    print(f"{a} via={via + 1} post_ms={pt * 1e3:.1f} "
          f"n1_ms={seen[0] * 1e3:.1f} n2_ms={seen[1] * 1e3:.1f} "
          f"last_ms={last * 1e3:.1f}", flush=True)
    return last, max(0.0, last - pt), pt


links = ask_links()
res, failed = [], 0
for i, a in enumerate(addrs):
    r = one(i, a, links[a.lower()])
    if r is None:
        failed += 1
    else:
        res.append(r)
if not res:
    sys.exit("rm404: no removal measured")
ms = lambda v: f"{v * 1e3:.1f}"
last, ans, pt = zip(*res)
print(f"k={len(res)} median_ms={ms(statistics.median(last))} "
      f"max_ms={ms(max(last))} answer_median_ms={ms(statistics.median(ans))} "
      f"answer_max_ms={ms(max(ans))} post_median_ms={ms(statistics.median(pt))} "
      f"failed={failed}")
