// Agent link framing: 0x00 | COBS(body + crc16 LE) | 0x00 on UART0, console text between
// frames.  The host side lives in hil/protocol/framing.py; both follow the same rules.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace agent {

uint16_t crc16(const uint8_t* data, size_t len, uint16_t crc = 0xFFFF);

// Encode `body` (crc appended here) as one complete frame into out; returns its length,
// or 0 if cap is too small.
size_t frame_encode(const uint8_t* body, size_t len, uint8_t* out, size_t cap);

// Incremental receiver.  push() returns:
//   FRAME  - a complete, CRC-checked body is in body()/body_len()
//   BAD    - a damaged frame was dropped (reason in last_error())
//   NONE   - nothing complete yet (or the byte was outside a frame)
class FrameReceiver {
public:
    enum Result { NONE, FRAME, BAD };
    enum Error { ERR_NONE, ERR_COBS, ERR_CRC, ERR_SHORT, ERR_TOO_LONG };
    FrameReceiver(uint8_t* buf, size_t cap) : buf_(buf), cap_(cap) {}
    Result push(uint8_t byte);
    const uint8_t* body() const { return buf_; }
    size_t body_len() const { return body_len_; }
    Error last_error() const { return err_; }
    uint32_t bad_frames = 0;
    uint32_t bad_crc = 0;

private:
    Result finish();
    uint8_t* buf_;
    size_t cap_;
    size_t n_ = 0;
    size_t body_len_ = 0;
    bool in_frame_ = false;
    bool overflow_ = false;
    Error err_ = ERR_NONE;
};

}  // namespace agent
