// SHA-256 (FIPS 180-4), incremental: the agent's TCP sink proves byte-exact transfers.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace agent {

class Sha256 {
public:
    Sha256() { reset(); }
    void reset();
    void update(const uint8_t* data, size_t len);
    void final(uint8_t out[32]) const;  // does not disturb the running state

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint64_t bytes_;
    uint8_t buf_[64];
    size_t fill_;
};

}  // namespace agent
