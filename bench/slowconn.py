#!/usr/bin/env python3
# slowconn.py PORT N: N connections from 127.0.0.1 to a keydird on PORT,
# each sending a request's headers a byte every 0.5 s and never ending
# them; meanwhile 50 lookups from 127.0.0.2 (curl --interface), timed.
# Prints how many opened, the lookups' status codes and their median and
# slowest time.  The figures in docs/RELIABILITY.md ("Connections").
import socket, sys, time, threading, subprocess, statistics
port=int(sys.argv[1]); n=int(sys.argv[2])
socks=[]; refused=0
for i in range(n):
    try:
        s=socket.socket(); s.settimeout(2)
        s.bind(("127.0.0.1",0)); s.connect(("127.0.0.1",port))
        s.send(b"GET /vks/v1/by-email/a@example.org HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except Exception as e:
        refused+=1
stop=False
def trickle():
    while not stop:
        for s in socks:
            try: s.send(b"X")
            except Exception: pass
        time.sleep(0.5)
t=threading.Thread(target=trickle); t.start()
lat=[]
for i in range(50):
    t0=time.time()
    r=subprocess.run(["curl","-s","-o","/dev/null","-w","%{http_code}","--interface","127.0.0.2","-m","20",f"http://127.0.0.1:{port}/vks/v1/by-email/nobody@example.org"],capture_output=True,text=True)
    lat.append((time.time()-t0, r.stdout))
    time.sleep(0.1)
stop=True; t.join()
ls=[l for l,_ in lat]
print("opened",len(socks),"refused-at-open",refused,"codes",set(c for _,c in lat),"lat median %.3f max %.3f"%(statistics.median(ls),max(ls)))
