// SHA-256 (FIPS 180-4) for Recall's content ids and keys, without a crypto
// library: x86-64's SHA extensions when the processor has them, portable C
// otherwise. The context is a plain value: copying it forks the computation.
#ifndef CRECALLSHA256_H
#define CRECALLSHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct recall_sha256 {
  uint32_t state[8];
  uint64_t length;
  uint8_t buffer[64];
  uint32_t used;
} recall_sha256;

/// Starts a computation.
void recall_sha256_init(recall_sha256 *context);
/// Adds bytes.
void recall_sha256_update(recall_sha256 *context, const void *bytes, size_t count);
/// Ends the computation (the context is spent) and writes the 32-byte digest.
void recall_sha256_final(recall_sha256 *context, uint8_t digest[32]);
/// The SHA-256 of some bytes.
void recall_sha256_hash(const void *bytes, size_t count, uint8_t digest[32]);
/// Whether the processor's SHA extensions are in use (for tests and benchmarks).
int recall_sha256_uses_hardware(void);
/// Hashes with the portable code only, whatever the processor (for tests).
void recall_sha256_hash_portable(const void *bytes, size_t count, uint8_t digest[32]);

#endif
