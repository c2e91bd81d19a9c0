// SHA-256 (FIPS 180-4): a portable block function, and one with x86-64's SHA
// extensions (SHA-NI), chosen once per process by what the processor has.
#include "CRecallSHA256.h"

#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define RECALL_SHA_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void blocks_portable(uint32_t state[8], const uint8_t *data, size_t count) {
  while (count--) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
      w[i] = (uint32_t)data[4 * i] << 24 | (uint32_t)data[4 * i + 1] << 16
        | (uint32_t)data[4 * i + 2] << 8 | (uint32_t)data[4 * i + 3];
    }
    for (int i = 16; i < 64; i++) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
      uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
    data += 64;
  }
}

#ifdef RECALL_SHA_X86
// Four rounds: the message words `w` plus their constants, through the two
// halves of the state (ABEF, CDGH).
#define RECALL_ROUNDS4(w, k)                                              \
  do {                                                                     \
    __m128i m = _mm_add_epi32((w), _mm_loadu_si128((const __m128i *)(k))); \
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);                           \
    m = _mm_shuffle_epi32(m, 0x0E);                                        \
    abef = _mm_sha256rnds2_epu32(abef, cdgh, m);                           \
  } while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_hardware(uint32_t state[8], const uint8_t *data, size_t count) {
  const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
  __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
  while (count--) {
    __m128i abef_saved = abef, cdgh_saved = cdgh;
    __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), byteswap);
    __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), byteswap);
    __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), byteswap);
    __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), byteswap);
    RECALL_ROUNDS4(w0, &K[0]);
    RECALL_ROUNDS4(w1, &K[4]);
    RECALL_ROUNDS4(w2, &K[8]);
    RECALL_ROUNDS4(w3, &K[12]);
    for (int group = 4; group < 16; group++) {
      // The next four message words from the last sixteen.
      __m128i next = _mm_sha256msg2_epu32(
        _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)), w3);
      w0 = w1; w1 = w2; w2 = w3; w3 = next;
      RECALL_ROUNDS4(w3, &K[4 * group]);
    }
    abef = _mm_add_epi32(abef, abef_saved);
    cdgh = _mm_add_epi32(cdgh, cdgh_saved);
    data += 64;
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

static int has_hardware(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int sse41 = (c >> 19) & 1, ssse3 = (c >> 9) & 1;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return sse41 && ssse3 && ((b >> 29) & 1);
}
#endif

typedef void (*block_function)(uint32_t state[8], const uint8_t *data, size_t count);

// Chosen at the first use; a race only chooses the same function twice.
static block_function chosen;

static block_function blocks(void) {
  block_function function = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
  if (function) return function;
#ifdef RECALL_SHA_X86
  function = has_hardware() ? blocks_hardware : blocks_portable;
#else
  function = blocks_portable;
#endif
  __atomic_store_n(&chosen, function, __ATOMIC_RELAXED);
  return function;
}

int recall_sha256_uses_hardware(void) {
#ifdef RECALL_SHA_X86
  return blocks() == blocks_hardware;
#else
  return 0;
#endif
}

void recall_sha256_init(recall_sha256 *context) {
  static const uint32_t initial[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  };
  memcpy(context->state, initial, sizeof initial);
  context->length = 0;
  context->used = 0;
}

static void update_with(recall_sha256 *context, const uint8_t *bytes, size_t count, block_function f) {
  context->length += count;
  if (context->used) {
    size_t take = 64 - context->used < count ? 64 - context->used : count;
    memcpy(context->buffer + context->used, bytes, take);
    context->used += (uint32_t)take;
    bytes += take;
    count -= take;
    if (context->used < 64) return;
    f(context->state, context->buffer, 1);
    context->used = 0;
  }
  if (count >= 64) {
    f(context->state, bytes, count / 64);
    bytes += count / 64 * 64;
    count %= 64;
  }
  if (count) {
    memcpy(context->buffer, bytes, count);
    context->used = (uint32_t)count;
  }
}

static void final_with(recall_sha256 *context, uint8_t digest[32], block_function f) {
  uint64_t bits = context->length * 8;
  uint8_t padding[72] = {0x80};
  size_t pad = (context->used < 56 ? 56 : 120) - context->used;
  uint8_t length[8];
  for (int i = 0; i < 8; i++) length[i] = (uint8_t)(bits >> (56 - 8 * i));
  uint64_t saved = context->length;
  update_with(context, padding, pad, f);
  update_with(context, length, 8, f);
  context->length = saved;
  for (int i = 0; i < 8; i++) {
    digest[4 * i] = (uint8_t)(context->state[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(context->state[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(context->state[i] >> 8);
    digest[4 * i + 3] = (uint8_t)context->state[i];
  }
}

void recall_sha256_update(recall_sha256 *context, const void *bytes, size_t count) {
  update_with(context, (const uint8_t *)bytes, count, blocks());
}

void recall_sha256_final(recall_sha256 *context, uint8_t digest[32]) {
  final_with(context, digest, blocks());
}

void recall_sha256_hash(const void *bytes, size_t count, uint8_t digest[32]) {
  recall_sha256 context;
  recall_sha256_init(&context);
  block_function f = blocks();
  update_with(&context, (const uint8_t *)bytes, count, f);
  final_with(&context, digest, f);
}

void recall_sha256_hash_portable(const void *bytes, size_t count, uint8_t digest[32]) {
  recall_sha256 context;
  recall_sha256_init(&context);
  update_with(&context, (const uint8_t *)bytes, count, blocks_portable);
  final_with(&context, digest, blocks_portable);
}
