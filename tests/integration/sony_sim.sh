# `tether sim sony` against independent clients: the real curl and a
# small python3 client (standard library only, written here) check the
# simulator's SSDP answer, device description, JSON-RPC shapes and error
# shapes, getEvent (full state, long-polled diffs, 40402) and the live-view
# framing (start byte, start code, sizes, padding, sequence numbers and
# their wrap, JPEG SOI/EOI, frame-info records), also with the stream
# written in odd pieces, against the facts in
# ../shared/research/sony-camera-remote-api.md.  Both personas.  Then SSDP
# by multicast, in a network namespace of the test's own.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sony_lib.sh"
cd "$T_DIR"

cat >client.py <<'PY'
import http.client, json, socket, struct, sys, threading, time, urllib.request, xml.etree.ElementTree as ET

name, persona, ssdp_port, ctl_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ST = "urn:schemas-sony-com:service:ScalarWebAPI:1"

def ok(what, cond, detail=""):
    print(("ok - %s: %s %s" if cond else "not ok - %s: %s %s -- " + str(detail)) % (name, persona, what), flush=True)

def control(path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (ctl_port, path), method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"} if body is not None else {})
    return json.load(urllib.request.urlopen(req, timeout=10))

# SSDP: an M-SEARCH by unicast; the answer comes back to our port
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: %s\r\n\r\n" % ST).encode(),
         ("127.0.0.1", ssdp_port))
reply = s.recv(2048).decode()
lines = reply.split("\r\n")
headers = {}
for l in lines[1:]:
    if ":" in l:
        k, v = l.split(":", 1)
        headers[k.strip().upper()] = v.strip()
ok("SSDP answers 200 OK", lines[0] == "HTTP/1.1 200 OK", lines[0])
ok("SSDP ST is the ScalarWebAPI", headers.get("ST") == ST, headers.get("ST"))
ok("SSDP has an empty EXT header", "EXT" in headers and headers["EXT"] == "", reply)
ok("SSDP USN ends with the ST", headers.get("USN", "").endswith("::" + ST), headers.get("USN"))
location = headers.get("LOCATION", "")
ok("SSDP LOCATION is the dd.xml", location.startswith("http://127.0.0.1:") and location.endswith("/dd.xml"), location)
s.sendto(b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: urn:other:service\r\n\r\n", ("127.0.0.1", ssdp_port))
s.settimeout(0.5)
try:
    s.recv(2048); silent = False
except socket.timeout:
    silent = True
ok("SSDP ignores other search targets", silent)

# the device description: endpoints = ActionList_URL + "/" + service
dd = ET.fromstring(urllib.request.urlopen(location, timeout=10).read())
ns = {"u": "urn:schemas-upnp-org:device-1-0", "av": "urn:schemas-sony-com:av"}
model = dd.find("u:device/u:friendlyName", ns).text
ok("dd.xml names the body", model == {"qx10": "DSC-QX10", "a6000": "ILCE-6000"}[persona], model)
services = {sv.find("av:X_ScalarWebAPI_ServiceType", ns).text: sv.find("av:X_ScalarWebAPI_ActionList_URL", ns).text
            for sv in dd.iter("{urn:schemas-sony-com:av}X_ScalarWebAPI_Service")}
ok("dd.xml lists the camera service", "camera" in services, services)
camera = services["camera"] + "/camera"
api_port = int(camera.split(":")[2].split("/")[0])
ok("the API port is not the description's", str(api_port) not in location, location)

rid = [0]
def call(method, params=None, version="1.0", raw=False):
    rid[0] += 1
    my_id = rid[0]
    c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)
    c.request("POST", "/sony/camera", json.dumps({"method": method, "params": params or [], "id": my_id, "version": version}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    if raw:
        return r.status, text
    j = json.loads(text)
    assert j.get("id") == my_id, (j, my_id)
    return j

j = call("getVersions")
ok("getVersions is [[versions]]", isinstance(j["result"][0], list) and "1.0" in j["result"][0], j)
versions = j["result"][0]
apis = call("getAvailableApiList")["result"][0]
ok("getAvailableApiList is [[names]]", "getEvent" in apis, apis)
if persona == "a6000":
    ok("the A6000 lists startRecMode before rec mode", "startRecMode" in apis and "actTakePicture" not in apis, apis)
    status, text = call("actTakePicture", raw=True)
    ok("a method not listed yet: error 1 at HTTP 200", status == 200 and json.loads(text)["error"][0] == 1, text)
    ok("startRecMode answers [0]", call("startRecMode")["result"] == [0])
    apis = call("getAvailableApiList")["result"][0]
else:
    ok("the QX10 is in rec mode already", "startRecMode" not in apis and "actTakePicture" in apis, apis)
ok("shooting methods are listed", "actTakePicture" in apis and "startLiveview" in apis and "setTouchAFPosition" in apis)
status, text = call("noSuchMethod", raw=True)
ok("an unknown method: error 12 at HTTP 200", status == 200 and json.loads(text)["error"][0] == 12, text)
ok("a version not offered: error 14", call("getAvailableApiList", version="9.9")["error"][0] == 14)
if persona == "qx10":  # Intelligent Auto locks ISO: Program Auto frees it
    ok("in Intelligent Auto ISO is not available", call("setIsoSpeedRate", ["400"])["error"][0] == 1)
    ok("setExposureMode answers [0]", call("setExposureMode", ["Program Auto"])["result"] == [0])
ok("a bad argument: error 3", call("setIsoSpeedRate", ["12345"])["error"][0] == 3)
status, text = call("getMethodTypes", ["1.0"], raw=True)
ok("getMethodTypes answers \"results\"", status == 200 and "results" in json.loads(text), text[:80])
status, text = call("startLiveview", raw=True)
ok("URLs are sent with escaped slashes", "http:\\/\\/" in text, text)
lv_url = json.loads(text)["result"][0]

# still size: [aspect, size] pairs, objects in answers
avail = call("getAvailableStillSize")["result"]
ok("getAvailableStillSize is [{aspect, size}, [{aspect, size}...]]", len(avail) == 2 and
   set(avail[0]) == {"aspect", "size"} and all(set(c) == {"aspect", "size"} for c in avail[1]) and avail[0] in avail[1], avail)
ok("getStillSize is [{aspect, size}]", call("getStillSize")["result"] == [avail[0]])
ok("setStillSize takes [aspect, size]", call("setStillSize", [avail[1][-1]["aspect"], avail[1][-1]["size"]])["result"] == [0])
ok("... and a pair the body lacks is error 3", call("setStillSize", ["1:1", "9M"])["error"][0] == 3)
ok("... so does one string", call("setStillSize", [avail[1][0]["size"]])["error"][0] == 3)
call("setStillSize", [avail[0]["aspect"], avail[0]["size"]])

# getEvent: full state in the newest version offered, then diffs
ev_version = versions[-1]
full = call("getEvent", [False], ev_version)["result"]
ok("getEvent %s has its slot count" % ev_version, len(full) == {"1.0": 35, "1.1": 36, "1.2": 60, "1.3": 63}[ev_version], len(full))
ok("slot 1 is cameraStatus IDLE", full[1] == {"type": "cameraStatus", "cameraStatus": "IDLE"}, full[1])
ok("slots 5, 6 and 10 are arrays", all(isinstance(full[i], list) for i in (5, 6, 10)))
ok("a full reply has the ISO setting", any(isinstance(e, dict) and e.get("type") == "isoSpeedRate" for e in full))
ok("slot 14 is stillSize with currentAspect and currentSize", isinstance(full[14], dict) and
   full[14].get("type") == "stillSize" and ":" in full[14].get("currentAspect", "") and
   full[14].get("currentSize", "").endswith("M"), full[14])
diff = {}
def poll():
    diff["reply"] = call("getEvent", [True], ev_version)
t = threading.Thread(target=poll)
t.start()
deadline = time.monotonic() + 20
while not control("/state")["event_poll_parked"] and time.monotonic() < deadline:
    time.sleep(0.02)
ok("a second long poll gets 40402", call("getEvent", [True], ev_version)["error"][0] == 40402)
call("setIsoSpeedRate", ["400"])
t.join(20)
r = diff.get("reply", {}).get("result", [])
changed = [e for e in r if e not in (None, [])]
ok("the long poll answers the change alone", len(changed) == 1 and changed[0]["type"] == "isoSpeedRate"
   and changed[0]["currentIsoSpeedRate"] == "400", changed)
ok("the diff keeps the version's length", len(r) == len(full), len(r))

# a shot: the postview is a JPEG with EXIF, at the URL given, verbatim
shot = call("actTakePicture")["result"][0][0]
jpeg = urllib.request.urlopen(shot, timeout=30).read()
ok("the postview is a JPEG with EXIF of the body", jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
   and b"Exif" in jpeg[:64] and b"SONY" in jpeg[:2048], jpeg[:16])

# live view: parse the stream ourselves
def read_exact(r, n):
    b = b""
    while len(b) < n:
        chunk = r.read(n - len(b))
        if not chunk:
            raise EOFError(len(b))
        b += chunk
    return b

def stream(frames):
    r = urllib.request.urlopen(lv_url, timeout=20)
    seqs, infos, problems = [], 0, []
    while len(seqs) < frames:
        h = read_exact(r, 8)
        start, ptype, seq, ts = struct.unpack(">BBHI", h)
        ph = read_exact(r, 128)
        if start != 0xFF: problems.append("start byte %x" % start)
        if ph[:4] != b"\x24\x35\x68\x79": problems.append("start code %r" % ph[:4])
        size = int.from_bytes(ph[4:7], "big")
        padding = ph[7]
        payload = read_exact(r, size)
        read_exact(r, padding)
        if ptype == 1:
            if payload[:2] != b"\xff\xd8" or payload[-2:] != b"\xff\xd9": problems.append("JPEG without SOI/EOI")
            seqs.append(seq)
        elif ptype == 2:
            count, rec = struct.unpack(">HH", ph[10:14])
            if ph[8:10] != b"\x01\x00" or rec != 16 or size != count * rec: problems.append("frame info layout")
            for k in range(count):
                l, t, rr, bb = struct.unpack(">HHHH", payload[16 * k:16 * k + 8])
                if not (0 <= l <= rr <= 10000 and 0 <= t <= bb <= 10000): problems.append("frame outside 0..10000")
            infos += 1
        else:
            problems.append("unknown type %d" % ptype)
        if len(problems) > 3:
            break
    r.close()
    return seqs, infos, problems

seqs, infos, problems = stream(45)
ok("live-view packets are well framed", not problems, problems)
steps = [(b - a) % 65536 for a, b in zip(seqs, seqs[1:])]
ok("JPEG sequence numbers step forward (gaps allowed)", all(1 <= s < 32768 for s in steps), steps)
ok("sequence numbers wrap at 65536", any(b < a for a, b in zip(seqs, seqs[1:])), seqs)
ok("frame-info packets follow the frames", infos >= 40, infos)
control("/faults", {"lv_split": 7})
seqs, infos, problems = stream(8)
ok("a stream written in pieces of 1..7 bytes parses the same", not problems and len(seqs) == 8, problems)
control("/faults", {"lv_split": 0})
af = call("setTouchAFPosition", [30.0, 40.0])["result"]
ok("setTouchAFPosition answers AFResult", af[0] == 0 and af[1]["AFResult"] is True and af[1]["AFType"] == "Touch", af)
seqs, infos, problems = stream(3)
ok("after touch AF frames still parse", not problems, problems)
ok("stopLiveview answers [0]", call("stopLiveview")["result"] == [0])
PY

for persona in qx10 a6000; do
    sony_start "$persona" || continue
    python3 client.py "$T_NAME" "$persona" "$SSDP_PORT" "$CTL_PORT" 2>"py-$persona.err" ||
        not_ok "$persona python client ran to the end" "$(tail -n 3 "py-$persona.err" | tr '\n' ' ')"
    # the real curl: error shapes at HTTP 200 and the HTTP-level 404
    out=$(curl -s -w ' %{http_code}' -d '{"method":"getEvent","params":["yes"],"id":7,"version":"1.0"}' \
        "http://127.0.0.1:$API_PORT/sony/camera")
    expect "$persona curl: a bad getEvent parameter is error 3 at HTTP 200" "$out" '{"error":[3,"Illegal Argument"],"id":7} 200'
    out=$(curl -s -w ' %{http_code}' -d 'not json' "http://127.0.0.1:$API_PORT/sony/camera")
    expect_match "$persona curl: a body that is not JSON is error 5" "$out" '^\{"error":\[5,.* 200$'
    expect "$persona curl: a wrong path is 404 with a JSON error" \
        "$(curl -s -w ' %{http_code}' "http://127.0.0.1:$API_PORT/nothing")" '{"error":[404,"Not Found"]} 404'
    expect_match "$persona curl: dd.xml is XML" "$(curl -s -D - -o /dev/null "$DD_URL")" 'Content-Type: text/xml'
    expect "$persona the control channel refuses a foreign Host" \
        "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "http://127.0.0.1:$CTL_PORT/state")" "403"
    expect "$persona the simulator counted the shot" "$(state .shots)" "1"
    post /unplug >/dev/null
    expect "$persona with the Wi-Fi down nothing answers" \
        "$(curl -s -o /dev/null -w '%{http_code}' -d '{"method":"getVersions","params":[],"id":1,"version":"1.0"}' \
            "http://127.0.0.1:$API_PORT/sony/camera")" "000"
    post /plug >/dev/null
    sim_stop "$persona simulator exits cleanly"
done

# ---- SSDP by multicast, as on a camera's Wi-Fi: in a network namespace of
# our own (its loopback with a multicast route), the simulator joins
# 239.255.255.250:1900; a python3 client's M-SEARCH to the group, and a
# plain `tether list` (no TETHER_SSDP_TARGET), find it
cat >multicast.py <<'PY'
import socket, sys
name = sys.argv[1]
ST = "urn:schemas-sony-com:service:ScalarWebAPI:1"
def ok(what, cond, detail=""):
    print(("ok - %s: %s" if cond else "not ok - %s: %s -- " + str(detail)) % (name, what), flush=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.settimeout(5)
s.sendto(("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
          "ST: %s\r\n\r\n" % ST).encode(), ("239.255.255.250", 1900))
try:
    data, src = s.recvfrom(4096)
except socket.timeout:
    data, src = b"", None
text = data.decode("latin-1")
head = dict((l.split(":", 1)[0].upper(), l.split(":", 1)[1].strip()) for l in text.split("\r\n")[1:] if ":" in l)
ok("multicast: an M-SEARCH to 239.255.255.250:1900 is answered (unicast, from port 1900)",
   text.startswith("HTTP/1.1 200 OK") and src is not None and src[1] == 1900, (src, text[:80]))
ok("multicast: the answer names the service and its description", head.get("ST") == ST and
   head.get("LOCATION", "").endswith("/dd.xml") and head.get("USN", "").endswith("::" + ST), head)
PY
cat >multicast.sh <<'SH'
ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo || {
    echo "not ok - $1: multicast: the namespace's loopback takes a multicast route"; exit 1; }
"${TETHER_SIM:-$TETHER}" sim sony --persona a6000 --listen 127.0.0.1:0 --ssdp 239.255.255.250:1900 \
    >mc-sim.out 2>mc-sim.err &
sim=$!
for _ in $(seq 1 200); do grep -q '^camera:' mc-sim.out && break; kill -0 $sim 2>/dev/null || break; sleep 0.05; done
python3 multicast.py "$1"
out=$(env -u TETHER_SSDP_TARGET "$TETHER" list 2>&1)
case $out in
*"Sony ILCE-6000"*) echo "ok - $1: multicast: tether list finds the camera without TETHER_SSDP_TARGET" ;;
*) echo "not ok - $1: multicast: tether list finds the camera without TETHER_SSDP_TARGET -- $out" ;;
esac
kill -TERM $sim
wait $sim
echo "status $?" >mc-sim.status
SH
if unshare -n true 2>/dev/null; then
    unshare -n bash multicast.sh "$T_NAME" >mc.out 2>mc.err
    cat mc.out
    grep -q '^not ok' mc.out && T_FAILED=1
    expect "multicast: the simulator exits cleanly" "$(cat mc-sim.status 2>/dev/null) $(grep -Ec 'Sanitizer|runtime error' mc-sim.err)" \
        "status 0 0"
else
    not_ok "multicast: a network namespace of our own (unshare -n)" "unshare -n is refused here"
fi
exit $T_FAILED
