#!/usr/bin/env python3
"""Writes the seed corpus, tests/fuzz/corpus/<target>/, from valid inputs.

Each target reads its input through libFuzzer's FuzzedDataProvider, which takes
integers from the end of the input and strings from the front; Input lays the
values out the same way, so a seed says exactly what it holds. Rerun after
changing a target's input layout:  python3 tests/fuzz/seeds.py
"""
import hashlib
import json
import pathlib
import shutil

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


class Input:
    """The inverse of FuzzedDataProvider, for the calls the targets make."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in the order the provider consumes it

    def int(self, value, lo, hi, size=8):
        span, nbytes = hi - lo, 0
        while nbytes < size and span >> (8 * nbytes) > 0:
            nbytes += 1
        self.back += ((value - lo) % (1 << (8 * size))).to_bytes(size, "big")[size - nbytes:]
        return self

    def bool(self, value):
        return self.int(int(value), 0, 255, 1)

    def string(self, text):
        """ConsumeRandomLengthString: a backslash is doubled; backslash + other ends it."""
        data = text.encode() if isinstance(text, str) else text
        self.front += data.replace(b"\\", b"\\\\") + b"\\ "
        return self

    def rest(self, text):
        self.front += text.encode() if isinstance(text, str) else text
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


# EncodeCompletions(committed, ...) of bitmaps and runs, dense and sparse, one
# near the 4096-byte cap's scale.
METADATA = [
    (100, "ks1bZAQOAg"),
    (0, "ks1bAAEC"),
    (41, "ks1bKckBt23btm3btm3btm3btm3btm3btm3btm3btm3btm3btm3btm3btg0"),
    (-1, "ks1r____________AQQFA7iEPQE"),
    (7, "ks1bB7gXVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"),
    (100, "ks1rZCoxH9MlCw"),
]


def offset_metadata():
    for committed, metadata in METADATA:
        small = -1 <= committed <= 1000
        i = Input().bool(False).bool(small)
        i.int(committed, -1, 1000) if small else i.int(committed, -(1 << 63), (1 << 63) - 1)
        yield i.rest(metadata)
    # Encoding: runs with gaps, unbounded and under a 64-byte cap.
    for bounded in (False, True):
        i = Input().bool(True).bool(True).int(100, -1, 1000).bool(not bounded)
        if bounded:
            i.int(64, 0, 8192)
        i.int(40, 0, 5000)
        for k in range(40):
            i.bool(k % 7 != 0)
            i.int(1, 1, 3) if k % 7 != 0 else i.int(10, 0, 62).int(500, 1, 1 << 10)
        yield i.bool(False)


def config():
    names = ["workers", "commit.interval", "revoke.timeout", "shutdown.timeout", "connect.timeout",
             "lane.max.messages", "lane.max.bytes", "max.in.flight", "max.ahead", "batch.max.messages",
             "delivery", "transactional.id", "members.topic", "members.interval"]
    values = ["8", "250ms", "10s", "1m", "2h", "10000", "16777216", "1000", "24000", "64", "exactly-once", "tx-1",
              "__kstrand_members", "0"]
    for index, value in enumerate(values):
        yield Input().int(0, 0, 3, 4).int(index, 0, len(names), 8).string(value)
    yield Input().int(0, 0, 3, 4).int(len(names), 0, len(names), 8).string("no.such.setting").string("1")
    for text in ("250ms", "30s", "720h", "-1s", "5"):
        yield Input().int(1, 0, 3, 4).string(text)
    yield Input().int(2, 0, 3, 4).int(1, 0, (1 << 64) - 1).int(1 << 40, 0, (1 << 64) - 1).string("1048576")
    pairs = ["security.protocol=SASL_SSL", "sasl.password=a=b", "acks=all", "acks=1"]
    i = Input().int(3, 0, 3, 4).int(len(pairs), 0, 8)
    for p in pairs:
        i.string(p)
    yield i
    yield Input().int(3, 0, 3, 4).int(2, 0, 8).string("linger.ms=5").string("=oops")


def announcement(instance, endpoint, partitions, **overrides):
    record = {"v": 1, "instance": instance, "group": "g", "member": instance, "host": "h", "pid": 42,
              "endpoint": endpoint, "interval_ms": 1000, "started_ms": 1763700000000, "updated_ms": 1763700001000,
              "partitions": [{"topic": topic, "partition": p, "committed": 10, "end_offset": 12, "lag": 2,
                              "processed": 5, "in_flight": 1, "paused": False} for topic, p in partitions]}
    record.update(overrides)
    return json.dumps(record)


def routing():
    # Records as text (the members topic's values).
    yield (Input().bool(True).string(announcement("a-1", "http://a:80", [("t", 0), ("t", 1)]))
           .string(announcement("b-1", "http://b:80", [("t", 1), ("t", 2), ("other", 0)])))
    yield Input().bool(True).string(announcement("c-1", "", [("t", 3)]))
    yield Input().bool(True).string(announcement("d-1", "http://d:80", [], v=2))
    # Numbers that once decoded wrapped (a claim on partition 3) or overflowed
    # the liveness check: each must now be rejected, and stay so.
    yield Input().bool(True).string(announcement("e-1", "http://e:80", [("t", (1 << 32) + 3)]))
    yield Input().bool(True).string(announcement("f-1", "http://f:80", [("t", 1)], updated_ms=10**16))
    yield Input().bool(True).string(announcement("g-1", "http://g:80", [("t", 1)], interval_ms=1 << 62))
    # Structured: members claiming overlapping partitions.
    i = Input().bool(False).int(3, 0, 8)
    for member, endpoint, claims in ((0, True, [0, 1]), (1, True, [1, 2]), (2, False, [3])):
        i.int(member, 0, 7).bool(endpoint).int(len(claims), 0, 6)
        for p in claims:
            i.bool(True).int(p, 0, 7, 4)
    yield i


def users_request():
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    user = '{"name":"Bob Smith","email":"bob@example.com"}'
    cases = [("POST", True, None, "", user),
             ("GET", True, None, "limit=10&cursor=3:5d1c20b8204ad4de", ""),
             ("GET", False, "5d1c20b8204ad4de", "", ""),
             ("PUT", False, "5d1c20b8204ad4de", "", '{"id":"5d1c20b8204ad4de","name":"B","email":"b@x"}'),
             ("DELETE", False, "5d1c20b8204ad4de", "", ""),
             ("PATCH", False, "x", "", "{}"),
             ("POST", True, None, "", '{"name":""}')]
    for method, collection, path_id, query, body in cases:
        i = Input().int(methods.index(method), 0, len(methods) - 1).bool(method == "POST").bool(collection)
        if not collection:
            i.string(path_id)
        yield i.string(query).rest(body)


def partitioner():
    for key, partitions in ((b"user-42", 12), (b"", 3), (b"\x00\xff\x80", 7), (b"a longer key, not a multiple of 4", 64)):
        yield Input().bool(True).int(partitions, 1, 64, 4).rest(key)
    yield Input().bool(False).int(2147483647, 1, 2147483647, 4).rest(b"max")


def main():
    for target in (offset_metadata, config, routing, users_request, partitioner):
        out = CORPUS / target.__name__
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for seed in target():
            data = seed.bytes()
            # libFuzzer names corpus files by their SHA-1, so a run's copies match.
            (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{out.relative_to(CORPUS.parent.parent.parent)}: {len(list(out.iterdir()))} files")


if __name__ == "__main__":
    main()
