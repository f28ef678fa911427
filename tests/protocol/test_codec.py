import pytest

from hil.protocol import codec, definition


def test_request_round_trip():
    body = codec.encode_request("UDP_SENDTO", 513, handle=3, ip="192.0.2.1", port=7, data=b"\x00hi")
    m = codec.decode_body(body)
    assert (m.name, m.req_id) == ("UDP_SENDTO", 513)
    assert m.fields == {"handle": 3, "ip": "192.0.2.1", "port": 7, "data": b"\x00hi"}


def test_negative_results_survive():
    body = codec.encode_message(codec.COMMANDS["UDP_BIND"].reply_code, 9, {"result": -65531})
    assert codec.decode_body(body)["result"] == -65531


@pytest.mark.parametrize("cut", [1, 3, 5, 8])
def test_truncated_payload_is_an_error(cut):
    body = codec.encode_request("UDP_BIND", 1, handle=0, ip="1.2.3.4", port=9)
    with pytest.raises(codec.CodecError):
        codec.decode_body(body[:-cut] if cut < len(body) - 3 else body[:3])


def test_length_prefix_that_lies_is_an_error():
    body = bytearray(codec.encode_request("ECHO", 1, data=b"abc"))
    body[3] = 200
    with pytest.raises(codec.CodecError, match="says 200 bytes"):
        codec.decode_body(bytes(body))


def test_unknown_type_and_trailing_bytes():
    with pytest.raises(codec.CodecError, match="unknown message type"):
        codec.decode_body(b"\x3b\x00\x00")  # 0x3b: no such request
    with pytest.raises(codec.CodecError, match="trailing"):
        codec.decode_body(codec.encode_request("HELLO", 1) + b"x")


def test_oversized_bytes_field_refused():
    with pytest.raises(codec.CodecError):
        codec.encode_request("ECHO", 1, data=bytes(definition.MAX_PAYLOAD + 1))


def test_protocol_hash_is_stable_and_codes_unique():
    assert definition.protocol_hash() == definition.protocol_hash()
    codes = [c for c, _, _ in definition.all_frames()]
    assert len(codes) == len(set(codes))
