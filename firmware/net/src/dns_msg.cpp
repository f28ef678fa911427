// DNS messages (RFC 1035 4, names compared as RFC 4343 says): queries built, responses
// checked and parsed (compression, CNAME chains, TTLs), names checked.  The resolver that
// uses them is dns.cpp.
#include <string.h>

#include "dnsclient.h"
#include "netstack.h"

namespace {
enum { NAME_MAX_TEXT = 253 };
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
}  // namespace

bool NetDns::sameName(const char* a, const char* b) {
    while (*a && *b && lower(*a) == lower(*b)) {
        a++;
        b++;
    }
    if (*a == '.' && !a[1]) a++;
    if (*b == '.' && !b[1]) b++;
    return !*a && !*b;
}

namespace {

// Walks the (possibly compressed) name at off.  Returns the offset just past it in place, or
// -1 when it is malformed: past the end, reserved label types, a pointer that does not point
// strictly before every place already visited (so no loop can exist), longer than 255
// bytes.  out (256 bytes, may be NULL) receives the name, dotted, lower case.  cmp (may be
// NULL): *eq tells whether the name equals cmp (case-insensitive; cmp may end with a dot).
int walkName(const uint8_t* m, int len, int off, char* out, const char* cmp, bool* eq) {
    int pos = off, end = -1, limit = off, wire = 1, n = 0, ci = 0;
    bool same = true;
    for (;;) {
        if (pos < 0 || pos >= len) return -1;
        uint8_t c = m[pos];
        if (c == 0) {
            if (end < 0) end = pos + 1;
            break;
        }
        if ((c & 0xC0) == 0xC0) {
            if (pos + 1 >= len) return -1;
            int ptr = ((c & 0x3F) << 8) | m[pos + 1];
            if (end < 0) end = pos + 2;
            if (ptr >= limit) return -1;
            limit = ptr;
            pos = ptr;
            continue;
        }
        if (c & 0xC0) return -1;
        if (pos + 1 + c > len) return -1;
        wire += 1 + c;
        if (wire > 255) return -1;
        if (n) {
            if (out) out[n] = '.';
            n++;
            if (cmp) {
                if (cmp[ci] == '.') ci++;
                else same = false;
            }
        }
        for (int i = 0; i < c; i++) {
            char ch = lower((char)m[pos + 1 + i]);
            if (out) out[n] = ch;
            n++;
            if (cmp && same) {
                if (cmp[ci] && lower(cmp[ci]) == ch) ci++;
                else same = false;
            }
        }
        pos += 1 + c;
    }
    if (out) out[n] = 0;
    if (cmp && eq) *eq = same && (!cmp[ci] || (cmp[ci] == '.' && !cmp[ci + 1]));
    return end;
}

}  // namespace

bool NetDns::parseDottedQuad(const char* s, uint32_t* ip) {
    if (!s) return false;
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        int digits = 0, n = 0;
        while (s[0] >= '0' && s[0] <= '9') {
            n = n * 10 + (s[0] - '0');
            if (++digits > 3) return false;
            s++;
        }
        if (!digits || n > 255) return false;
        v = (v << 8) | (uint32_t)n;
        if (part < 3) {
            if (*s != '.') return false;
            s++;
        }
    }
    if (*s) return false;
    *ip = v;
    return true;
}

bool NetDns::validName(const char* name) {
    if (!name) return false;
    size_t len = strnlen(name, NAME_MAX_TEXT + 2);
    if (len && name[len - 1] == '.') len--;  // one trailing dot (absolute name)
    if (len == 0 || len > NAME_MAX_TEXT) return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (c <= 0x20 || c >= 0x7F) {
            return false;
        } else if (++label > 63) {
            return false;
        }
    }
    return label > 0;
}

int NetDns::buildQuery(uint8_t* out, int cap, uint16_t id, const char* name) {
    if (!validName(name)) return 0;
    size_t len = strlen(name);
    if (name[len - 1] == '.') len--;
    int need = DNS_HDR + (int)len + 2 + 4;
    if (need > cap) return 0;
    memset(out, 0, DNS_HDR);
    wr16(out, id);
    wr16(out + 2, 0x0100);  // standard query, recursion desired
    wr16(out + 4, 1);       // one question
    uint8_t* p = out + DNS_HDR;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            *p++ = (uint8_t)(i - start);
            memcpy(p, name + start, i - start);
            p += i - start;
            start = i + 1;
        }
    }
    *p++ = 0;
    wr16(p, 1);      // type A
    wr16(p + 2, 1);  // class IN
    return need;
}

NetDns::ParseResult NetDns::parseResponse(const uint8_t* m, int len, uint16_t id, const char* name,
                                          uint32_t* ip, uint32_t* ttl) {
    if (!m || !name || len < DNS_HDR || len > DNS_MSG_MAX || rd16(m) != id) return PARSE_IGNORE;
    uint16_t flags = rd16(m + 2);
    int qd = rd16(m + 4), an = rd16(m + 6);
    if (qd != 1) return PARSE_NOTFOUND;
    bool eq = false;
    int off = walkName(m, len, DNS_HDR, NULL, name, &eq);
    if (off < 0 || off + 4 > len) return PARSE_NOTFOUND;
    if (!eq) return PARSE_IGNORE;  // an answer to another question
    if (!(flags & 0x8000) || (flags & 0x7800) || (flags & 0x000F)) return PARSE_NOTFOUND;
    if (rd16(m + off) != 1 || rd16(m + off + 2) != 1) return PARSE_NOTFOUND;
    off += 4;
    // Check the answer section as a whole: a count that lies or a broken record ends it.
    const int first = off;
    for (int i = 0; i < an; i++) {
        off = walkName(m, len, off, NULL, NULL, NULL);
        if (off < 0 || off + 10 > len) return PARSE_NOTFOUND;
        int rdlen = rd16(m + off + 8);
        off += 10 + rdlen;
        if (off > len) return PARSE_NOTFOUND;
    }
    // Follow the chain: the A record of the current target, else its CNAME.
    char target[256];
    const char* want = name;
    uint32_t minTtl = 0xFFFFFFFFu;
    for (int hop = 0; hop < 8; hop++) {
        int cname = -1;
        uint32_t cnameTtl = 0;
        off = first;
        for (int i = 0; i < an; i++) {
            bool own = false;
            off = walkName(m, len, off, NULL, want, &own);
            uint16_t type = rd16(m + off), cls = rd16(m + off + 2);
            uint32_t t = rd32(m + off + 4);
            if (t & 0x80000000u) t = 0;  // RFC 2181 8: treat as zero
            int rdlen = rd16(m + off + 8);
            int rd = off + 10;
            off = rd + rdlen;
            if (!own || cls != 1) continue;
            if (type == 1 && rdlen == 4) {
                *ip = rd32(m + rd);
                *ttl = t < minTtl ? t : minTtl;
                return PARSE_FOUND;
            }
            if (type == 5 && cname < 0) {
                cname = rd;
                cnameTtl = t;
            }
        }
        if (cname < 0) return PARSE_NOTFOUND;
        if (walkName(m, len, cname, target, NULL, NULL) < 0) return PARSE_NOTFOUND;
        if (!target[0]) return PARSE_NOTFOUND;
        if (cnameTtl < minTtl) minTtl = cnameTtl;
        want = target;
    }
    return PARSE_NOTFOUND;  // chain too long
}
