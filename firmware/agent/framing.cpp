#include "framing.h"

namespace agent {

uint16_t crc16(const uint8_t* data, size_t len, uint16_t crc) {
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t frame_encode(const uint8_t* body, size_t len, uint8_t* out, size_t cap) {
    // Worst case: 2 delimiters + 2 crc + one overhead byte per 254 data bytes.
    size_t total = len + 2;
    if (cap < total + total / 254 + 4) return 0;
    uint16_t crc = crc16(body, len);
    size_t o = 0;
    out[o++] = 0;
    size_t code_pos = o++;
    uint8_t code = 1;
    for (size_t i = 0; i < total; i++) {
        uint8_t b = i < len ? body[i] : (i == len ? (uint8_t)(crc & 0xFF) : (uint8_t)(crc >> 8));
        if (b == 0) {
            out[code_pos] = code;
            code_pos = o++;
            code = 1;
        } else {
            out[o++] = b;
            if (++code == 0xFF) {
                out[code_pos] = code;
                code_pos = o++;
                code = 1;
            }
        }
    }
    out[code_pos] = code;
    out[o++] = 0;
    return o;
}

FrameReceiver::Result FrameReceiver::push(uint8_t byte) {
    if (!in_frame_) {
        if (byte == 0) {
            in_frame_ = true;
            n_ = 0;
            overflow_ = false;
        }
        return NONE;  // console text from the host is ignored
    }
    if (byte != 0) {
        if (n_ < cap_) buf_[n_++] = byte;
        else overflow_ = true;
        return NONE;
    }
    if (n_ == 0) return NONE;  // repeated start marker
    Result r = finish();
    n_ = 0;
    // After a damaged frame the closing zero may open the next good one: stay in frame.
    in_frame_ = (r == BAD);
    overflow_ = false;
    return r;
}

FrameReceiver::Result FrameReceiver::finish() {
    if (overflow_) { err_ = ERR_TOO_LONG; bad_frames++; return BAD; }
    // Decode COBS in place (output never overtakes input).
    size_t i = 0, o = 0;
    while (i < n_) {
        uint8_t code = buf_[i];
        if (i + code > n_) { err_ = ERR_COBS; bad_frames++; return BAD; }
        for (uint8_t k = 1; k < code; k++) buf_[o++] = buf_[i + k];
        i += code;
        if (code != 0xFF && i < n_) buf_[o++] = 0;
    }
    if (o < 5) { err_ = ERR_SHORT; bad_frames++; return BAD; }
    uint16_t got = (uint16_t)(buf_[o - 2] | (buf_[o - 1] << 8));
    if (crc16(buf_, o - 2) != got) { err_ = ERR_CRC; bad_frames++; bad_crc++; return BAD; }
    body_len_ = o - 2;
    err_ = ERR_NONE;
    return FRAME;
}

}  // namespace agent
