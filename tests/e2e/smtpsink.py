#!/usr/bin/python3
"""smtpsink: the SMTP server of the fault tests (aiosmtpd), which stores
every mail it accepts in a Maildir and can be told, while it runs, to be
slow or to refuse.

usage: smtpsink.py HOST:PORT MAILDIR CONTROL

MAILDIR/{tmp,new,cur} are made if missing; each accepted mail lands in
MAILDIR/new under a name that sorts in the order of arrival, and a line
"SEQ RCPT FILE" is appended to MAILDIR/deliveries.  CONTROL is read again
for every command, so a test changes the server's behaviour by rewriting
it (a missing file has no rules).  One rule a line:

  delay SECONDS     answer the end of DATA only after SECONDS (a slow server)
  tempfail ADDR     answer RCPT TO:<ADDR> with 451 (ADDR * : every one)
  reject ADDR       answer RCPT TO:<ADDR> with 550 (ADDR * : every one)

Every refusal is appended to MAILDIR/refusals as "CODE RCPT".  Runs until
SIGTERM or SIGINT.
"""
import asyncio
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


def rules(path):
    """The rules in the control file: (delay, {addr: code})."""
    delay, codes = 0.0, {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        w = line.split()
        if len(w) != 2:
            continue
        if w[0] == "delay":
            delay = float(w[1])
        elif w[0] == "tempfail":
            codes[w[1].lower()] = 451
        elif w[0] == "reject":
            codes[w[1].lower()] = 550
    return delay, codes


class Sink:
    def __init__(self, maildir, control):
        self.maildir = maildir
        self.control = control
        self.seq = 0
        self.lock = threading.Lock()
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)
        # carry on numbering after a restart on the same Maildir
        self.seq = len(os.listdir(os.path.join(maildir, "new")))

    def log(self, name, line):
        with open(os.path.join(self.maildir, name), "a") as f:
            f.write(line + "\n")

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        _, codes = rules(self.control)
        code = codes.get(address.lower(), codes.get("*"))
        if code == 451:
            self.log("refusals", "451 " + address)
            return "451 4.3.0 <%s>: try again later" % address
        if code == 550:
            self.log("refusals", "550 " + address)
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        delay, _ = rules(self.control)
        if delay > 0:
            await asyncio.sleep(delay)
        with self.lock:
            self.seq += 1
            seq = self.seq
        name = "%.6f.%08d.sink" % (time.time(), seq)
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(envelope.content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        for rcpt in envelope.rcpt_tos:
            self.log("deliveries", "%d %s %s" % (seq, rcpt, name))
        return "250 Message accepted for delivery"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port = sys.argv[1].rsplit(":", 1)
    sink = Sink(sys.argv[2], sys.argv[3])
    ctl = Controller(sink, hostname=host, port=int(port))
    ctl.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    done.wait()
    ctl.stop()


if __name__ == "__main__":
    main()
