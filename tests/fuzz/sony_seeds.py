#!/usr/bin/env python3
"""Seed inputs for the Sony fuzz targets (scripts/check calls this).

usage: sony_seeds.py liveview|jsonrpc DIR

liveview: a first byte (how the stream is cut) and a stream of live-view
packets: JPEG, frame info, an unknown type, garbage between them, a cut
packet.  jsonrpc: a first byte (0 replies, 1 device description) and a
reply, a getEvent reply, an error, getMethodTypes' "results", a dd.xml.
"""
import os
import struct
import sys


def packet(ptype, seq, payload, padding=0, frames=0):
    head = struct.pack(">BBHI", 0xFF, ptype, seq & 0xFFFF, seq * 33)
    size = len(payload)
    ph = b"\x24\x35\x68\x79" + size.to_bytes(3, "big") + bytes([padding])
    if ptype == 2:
        ph += b"\x01\x00" + struct.pack(">HH", frames, 16)
    ph = ph.ljust(128, b"\x00")
    return head + ph + payload + b"\x00" * padding


def jpeg(n, mark):
    return b"\xFF\xD8" + bytes([mark]) * (n - 4) + b"\xFF\xD9"


def frame_records(n):
    return b"".join(struct.pack(">HHHHBBB5x", 1000 * i, 2000, 1000 * i + 900, 2900, 1, 4, 1) for i in range(n))


def main():
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    if kind == "liveview":
        stream = packet(1, 1, jpeg(300, 0x41), 4) + packet(2, 1, frame_records(2), 0, 2)
        seeds["packets"] = b"\x07" + stream + packet(1, 2, jpeg(64, 0x42))
        seeds["garbage"] = b"\x00" + b"\x00\xFF\x24\x35" + packet(0x11, 9, b"\xFF" * 40, 3) + packet(1, 65535, jpeg(20, 1))
        seeds["cut"] = b"\x03" + packet(1, 5, jpeg(100, 2))[:60] + packet(1, 6, jpeg(100, 3))
    else:
        seeds["reply"] = b"\x00" + rb'{"result":["http:\/\/127.0.0.1:8080\/liveview\/liveviewstream"],"id":1}'
        seeds["error"] = b"\x00" + b'{"error":[40401,"Camera Not Ready"],"id":2}'
        seeds["event"] = b"\x00" + (
            b'{"result":[{"type":"availableApiList","names":["getEvent","actTakePicture"]},'
            b'{"type":"cameraStatus","cameraStatus":"IDLE"},null,null,null,'
            b'[{"type":"takePicture","takePictureUrl":["http:\\/\\/h\\/p.JPG"]}],[],null,null,null,'
            b'[{"type":"storageInformation","recordTarget":true,"numberOfRecordableImages":9}],'
            b'{"type":"exposureCompensation","currentExposureCompensation":0,"maxExposureCompensation":9,'
            b'"minExposureCompensation":-9,"stepIndexOfExposureCompensation":1},'
            b'{"type":"isoSpeedRate","currentIsoSpeedRate":"AUTO","isoSpeedRateCandidates":["AUTO","100"]},'
            b'{"type":"batteryInfo","batteryInfo":[{"levelNumer":2,"levelDenom":4}]}],"id":3}')
        seeds["available"] = b"\x00" + b'{"result":[{"whiteBalanceMode":"Auto WB"},[{"whiteBalanceMode":"Daylight"}]],"id":4}'
        seeds["stillsize"] = b"\x00" + (
            b'{"result":[{"aspect":"3:2","size":"24M"},[{"aspect":"3:2","size":"24M"},{"aspect":"16:9"}]],"id":7}')
        seeds["stillsize-event"] = b"\x00" + (
            b'{"result":[null,null,null,null,null,[],[],null,null,null,[],null,null,null,'
            b'{"type":"stillSize","checkAvailability":true,"currentAspect":"4:3","currentSize":"18M"}],"id":8}')
        seeds["versions"] = b"\x00" + b'{"result":[["1.0","1.1","1.2"]],"id":5}'
        seeds["methodtypes"] = b"\x00" + b'{"results":[["getVersions",[],["string*"],"1.0"]],"id":6}'
        seeds["dd"] = b"\x01" + (
            b'<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>'
            b'<friendlyName>DSC-QX10 &amp; &#65;</friendlyName><UDN>uuid:1</UDN>'
            b'<av:X_ScalarWebAPI_DeviceInfo xmlns:av="urn:schemas-sony-com:av"><av:X_ScalarWebAPI_ServiceList>'
            b'<av:X_ScalarWebAPI_Service><av:X_ScalarWebAPI_ServiceType>camera</av:X_ScalarWebAPI_ServiceType>'
            b'<av:X_ScalarWebAPI_ActionList_URL>http://10.0.0.1:10000/sony</av:X_ScalarWebAPI_ActionList_URL>'
            b'</av:X_ScalarWebAPI_Service></av:X_ScalarWebAPI_ServiceList></av:X_ScalarWebAPI_DeviceInfo>'
            b'</device></root>')
    for name, data in seeds.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
