/*
 * The quote-aware row scanner of csv/chunker.ts, 64 bytes at a time with WebAssembly SIMD.
 * Same contract as RowChunker.scan: finds where the chunk's `rows_per_chunk`-th row ends,
 * counting physical lines, checking every row's field count and length, and counting the
 * blank lines skipped. On a ragged or too long row, or a quote inside an unquoted field, it stops and says so; the caller re-scans those bytes with the JavaScript scanner, which words the
 * error (file, line, fields found). Build: scripts/build-wasm.sh (clang, wasm32, -msimd128).
 *
 * Per block: bit masks of quotes, LFs, CRs and delimiters; a prefix XOR of the quote mask
 * says which bytes lie inside quotes; rows end at the LFs outside quotes, and each row's
 * fields are 1 + the delimiters outside quotes before its LF.
 */
#include <stdint.h>
#include <wasm_simd128.h>

typedef struct {
  int32_t in_quotes;      /* 0 or 1, carried across calls */
  int32_t fields_in_row;  /* fields seen so far in the current row (starts at 1) */
  int32_t row_has_bytes;  /* the current row has a byte other than CR (blank rows are skipped) */
  int32_t line;           /* physical line at the scan position */
  int32_t rows;           /* complete rows in the current chunk */
  int32_t row_line;       /* line the current row starts on */
  int32_t quote_line;     /* line of the last opening quote */
  int32_t rows_per_chunk;
  int32_t fields;
  int32_t delimiter;
  int32_t quote;
  int32_t row_start;      /* index where the current row starts (negative: in an earlier buffer) */
  int32_t max_row;        /* longest row allowed, in bytes without its LF */
  int32_t blanks;         /* blank lines skipped in the current chunk (never with one field) */
  int32_t prev_sep;       /* the byte before the scan is a delimiter, LF or quote (a quote may open after it) */
} State;

#define RAGGED (-2)
#define MORE (-1)
#define TOO_LONG (-3)
#define BAD_QUOTE (-4)

static State state;
static uint8_t tail[64];

State *state_ptr(void) { return &state; }

static inline uint64_t eq_mask(const uint8_t *p, v128_t c) {
  uint64_t m0 = (uint16_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p), c));
  uint64_t m1 = (uint16_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p + 16), c));
  uint64_t m2 = (uint16_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p + 32), c));
  uint64_t m3 = (uint16_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p + 48), c));
  return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
}

static inline uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

/* Bits below p, and bits up to and including p. */
static inline uint64_t below(int p) { return p == 0 ? 0 : (~0ULL >> (64 - p)); }
static inline uint64_t upto(int p) { return p == 63 ? ~0ULL : ((1ULL << (p + 1)) - 1); }

/*
 * Scans buf[from..len). Returns the index after the LF that completes the chunk, MORE when
 * the bytes ran out first, or RAGGED, TOO_LONG or BAD_QUOTE (state then undefined: the
 * caller re-scans in JavaScript, which words the error).
 */
int32_t scan(const uint8_t *buf, int32_t from, int32_t len) {
  const v128_t vq = wasm_i8x16_splat((int8_t)state.quote);
  const v128_t vd = wasm_i8x16_splat((int8_t)state.delimiter);
  const v128_t vl = wasm_i8x16_splat('\n');
  const v128_t vr = wasm_i8x16_splat('\r');
  uint64_t carry = state.in_quotes ? ~0ULL : 0;
  int32_t f = state.fields_in_row;
  int32_t has = state.row_has_bytes;
  int32_t line = state.line;
  int32_t rows = state.rows;
  int32_t row_line = state.row_line;
  int32_t row_start = state.row_start;
  int32_t blanks = state.blanks;
  const int32_t max_row = state.max_row;
  uint64_t sep_carry = state.prev_sep ? 1 : 0;
  const int32_t fields = state.fields;
  const int32_t per_chunk = state.rows_per_chunk;

  for (int32_t at = from; at < len; at += 64) {
    const uint8_t *p = buf + at;
    uint64_t valid = ~0ULL;
    if (len - at < 64) {
      const int32_t n = len - at;
      for (int32_t i = 0; i < 64; i++) tail[i] = i < n ? p[i] : 0;
      p = tail;
      valid = below(n);
    }
    const uint64_t Q = eq_mask(p, vq) & valid;
    const uint64_t L = eq_mask(p, vl) & valid;
    const uint64_t D = eq_mask(p, vd) & valid;
    const uint64_t C = eq_mask(p, vr) & valid;
    const uint64_t nonblank = ~(L | C) & valid;
    const uint64_t inside = prefix_xor(Q) ^ carry;
    carry = (uint64_t)((int64_t)inside >> 63);
    const uint64_t opening = Q & inside;
    /* A quote opens a field only at its start (or doubles a quote): `a,b"c` is malformed. */
    const uint64_t seps = D | L | Q;
    if (opening & ~((seps << 1) | sep_carry)) return BAD_QUOTE;
    sep_carry = len - at >= 64 ? (seps >> 63) : ((seps >> (len - at - 1)) & 1);
    if (opening) {
      const int i = 63 - __builtin_clzll(opening);
      state.quote_line = line + __builtin_popcountll(L & below(i));
    }
    const uint64_t outsideD = D & ~inside;
    uint64_t ends = L & ~inside;
    uint64_t consumed = 0;
    while (ends) {
      const int e = __builtin_ctzll(ends);
      const uint64_t seg = below(e) & ~consumed;
      if (nonblank & seg) has = 1;
      f += __builtin_popcountll(outsideD & seg);
      if (at + e - row_start > max_row) return TOO_LONG;
      row_start = at + e + 1;
      /* A blank line is skipped, except in a one-column file, where it is a null value. */
      if (has || fields == 1) {
        if (f != fields) return RAGGED;
        rows++;
      } else {
        blanks++;
      }
      f = 1;
      has = 0;
      consumed = upto(e);
      row_line = line + __builtin_popcountll(L & consumed);
      ends &= ends - 1;
      if (rows == per_chunk) {
        state.in_quotes = 0;
        state.fields_in_row = 1;
        state.row_has_bytes = 0;
        state.line = row_line;
        state.rows = rows;
        state.row_line = row_line;
        state.row_start = row_start;
        state.blanks = blanks;
        state.prev_sep = 1;
        return at + e + 1;
      }
    }
    const uint64_t rest = valid & ~consumed;
    if (nonblank & rest) has = 1;
    f += __builtin_popcountll(outsideD & rest);
    line += __builtin_popcountll(L);
  }
  if (len - row_start > max_row) return TOO_LONG;
  state.in_quotes = carry != 0;
  state.fields_in_row = f;
  state.row_has_bytes = has;
  state.line = line;
  state.rows = rows;
  state.row_line = row_line;
  state.row_start = row_start;
  state.blanks = blanks;
  state.prev_sep = (int32_t)sep_carry;
  return MORE;
}

/* Where callers put the bytes to scan: after the module's own data, up to the memory's end. */
extern unsigned char __heap_base;
uint8_t *input_ptr(void) { return &__heap_base; }
