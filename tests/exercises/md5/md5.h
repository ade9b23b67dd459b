/* MD5 (RFC 1321): a 16-byte checksum of any number of bytes, given to
 * exercise 5.2 so that it is about the protocol, not about MD5. Broken as
 * a defence against forgery, it still tells a client whether the bytes it
 * received are the bytes that were sent.
 *
 * Written for this repository and given away: copy it, change it, no
 * notice needed (public domain).
 *
 *     struct md5 md5;
 *     char hex[MD5_HEX_SIZE];
 *
 *     md5_init(&md5);
 *     md5_update(&md5, bytes, len);       as many times as there are pieces
 *     md5_hex(&md5, hex);                 "9e107d9d372bb6826bd81d3542a419d6"
 */
#ifndef MD5_H
#define MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_HEX_SIZE 33 /* 32 lowercase hex digits and a NUL */

struct md5 {
    uint32_t state[4];
    uint64_t length;         /* bytes taken in so far */
    unsigned char block[64]; /* the bytes of the block being filled */
};

void md5_init(struct md5 *md5);

/* Takes in len more bytes, any bytes: NUL is a byte like the others. */
void md5_update(struct md5 *md5, const void *bytes, size_t len);

/* Finishes the checksum of every byte taken in and writes it as 32
 * lowercase hex digits and a NUL. Call md5_init again before reusing md5. */
void md5_hex(struct md5 *md5, char hex[MD5_HEX_SIZE]);

#endif
