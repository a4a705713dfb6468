/*
 * The byte scan of csv/strict.ts in WebAssembly: the same walk over a chunk's rows (a field
 * starts after a delimiter or LF; a quote opens a field only at its start; past the last
 * checked field a row is skipped to its LF) and the same quick look at each checked field.
 * It settles what surely holds to the column's rule and hands everything else back to
 * JavaScript (`run` returns SLOW: the field's bytes, its column and line), which applies the
 * exact rules of csv/infer.ts and then calls `run` again to go on after that field.
 * strict.ts's JavaScript scan stays the reference; test/unit/csv/strict-wasm.test.ts holds
 * the two to the same answers. Build: scripts/build-wasm.sh (clang, wasm32, -msimd128).
 *
 * The text comes in windows (strict-wasm.ts copies a few hundred KiB of the chunk at a time):
 * where the text goes on past the window (`st.more`), a field whose end the window does not
 * show is not judged; `run` returns MORE with the place it starts, and JavaScript copies the
 * text from there on and calls again.
 *
 * Where the JavaScript scan steps byte by byte to a field's end, this looks 16 bytes at a
 * time for the next delimiter or LF (or quote); the text is followed by 16 readable bytes so a
 * look never leaves memory, and a hit past the end counts as the end.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define DONE 0
#define SLOW 1
#define MORE 2

/* What a checked field's quick look is: strict.ts's `Quick`. */
#define K_INT 0
#define K_FLOAT 1
#define K_SHAPE 2
#define K_OTHER 3

/* Longest shape the quick look holds; a longer one gets K_OTHER. */
#define SHAPE_MAX 48

typedef struct {
  int32_t kind;
  int32_t len;      /* bytes of the shape without its zone */
  int32_t zoned;    /* the value ends in Z or an offset (+01:00) */
  int32_t ns_years; /* nanoseconds: the year must be 1678-2261 */
  uint8_t bytes[SHAPE_MAX]; /* 0: a digit; else the byte itself */
} Rule;

/* The scan's state: set by JavaScript before the first `run`, kept across SLOW returns. */
typedef struct {
  int32_t pos;   /* the next field starts here (an index into the text) */
  int32_t field; /* its field number in the row */
  int32_t line;  /* physical line at pos */
  int32_t n;     /* bytes of text */
  int32_t delimiter;
  int32_t quote;
  int32_t last;  /* highest checked field number */
  /* On SLOW: the field JavaScript must judge. */
  int32_t k;        /* index of its rule */
  int32_t start;    /* its value's bytes: [start, stop) (quoted: inside the quotes, doubled quotes as written) */
  int32_t stop;
  int32_t at_line;  /* the line the field starts on */
  int32_t quoted;
  /* 1: the text goes on past these n bytes, so a field that reaches the n-th is not known to end there. */
  int32_t more;
} State;

static State st;

State *state_ptr(void) { return &st; }

static inline int32_t is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/*
 * A 64-byte window of the text as bit masks: delimiters or LFs (`dl`), quotes or LFs (`ql`).
 * Fields are ~10 bytes, so one window's masks serve several fields' ends.
 */
typedef struct {
  int32_t base;
  uint64_t dl;
  uint64_t ql;
} Window;

static inline uint64_t mask16(v128_t hits) { return (uint64_t)(uint16_t)wasm_i8x16_bitmask(hits); }

static inline void load_window(Window *w, const uint8_t *t, int32_t at, v128_t vd, v128_t vq, v128_t vl) {
  uint64_t dl = 0, ql = 0;
  for (int32_t c = 0; c < 4; c++) {
    const v128_t v = wasm_v128_load(t + at + 16 * c);
    const v128_t l = wasm_i8x16_eq(v, vl);
    dl |= mask16(wasm_v128_or(wasm_i8x16_eq(v, vd), l)) << (16 * c);
    ql |= mask16(wasm_v128_or(wasm_i8x16_eq(v, vq), l)) << (16 * c);
  }
  w->base = at;
  w->dl = dl;
  w->ql = ql;
}

/* The first index >= i whose byte is in the window's mask `which` (0: dl, 1: ql); n or more when none is before n. */
static inline int32_t find(Window *w, int32_t which, const uint8_t *t, int32_t i, int32_t n, v128_t vd, v128_t vq, v128_t vl) {
  for (;;) {
    if (i >= n) return n;
    if (i - w->base >= 64) load_window(w, t, i, vd, vq, vl);
    const uint64_t m = (which ? w->ql : w->dl) >> (i - w->base);
    if (m) return i + (int32_t)__builtin_ctzll(m);
    i = w->base + 64;
  }
}

/* strict.ts's quickOk for an integer: -?(0|[1-9][0-9]*), at most 18 digits. */
static inline int32_t quick_int(const uint8_t *t, int32_t s, int32_t e) {
  int32_t k = t[s] == '-' ? s + 1 : s;
  if (k == e || e - k > 18) return 0;
  if (t[k] == '0') return k + 1 == e;
  for (; k < e; k++)
    if (!is_digit(t[k])) return 0;
  return 1;
}

/* strict.ts's quickOk for a float: -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 15 digits. */
static inline int32_t quick_float(const uint8_t *t, int32_t s, int32_t e) {
  int32_t k = t[s] == '-' ? s + 1 : s;
  if (k == e) return 0;
  const int32_t lead = k;
  if (t[k] == '0' && k + 1 < e && t[k + 1] != '.') return 0;
  int32_t digits = 0;
  for (; k < e && is_digit(t[k]); k++) digits++;
  if (k == lead) return 0;
  if (k < e) {
    if (t[k] != '.' || k + 1 == e) return 0;
    for (k++; k < e; k++) {
      if (!is_digit(t[k])) return 0;
      digits++;
    }
  }
  return digits <= 15;
}

/* strict.ts's hasShape: digits where the shape has them, its other bytes as they are, then the zone. */
static inline int32_t quick_shape(const Rule *r, const uint8_t *t, int32_t s, int32_t e) {
  const int32_t rest = e - s - r->len;
  if (r->zoned ? rest != 1 && rest != 6 : rest != 0) return 0;
  for (int32_t k = 0; k < r->len; k++) {
    const uint8_t c = t[s + k];
    if (r->bytes[k] == 0 ? !is_digit(c) : c != r->bytes[k]) return 0;
  }
  if (r->ns_years) {
    const int32_t year = (t[s] - '0') * 1000 + (t[s + 1] - '0') * 100 + (t[s + 2] - '0') * 10 + (t[s + 3] - '0');
    if (year < 1678 || year > 2261) return 0;
  }
  if (!r->zoned) return 1;
  const int32_t z = s + r->len;
  if (rest == 1) return t[z] == 'Z';
  return (t[z] == '+' || t[z] == '-') && is_digit(t[z + 1]) && is_digit(t[z + 2]) && t[z + 3] == ':' && is_digit(t[z + 4]) && is_digit(t[z + 5]);
}

static inline int32_t quick_ok(const Rule *r, const uint8_t *t, int32_t s, int32_t e) {
  switch (r->kind) {
    case K_INT: return quick_int(t, s, e);
    case K_FLOAT: return quick_float(t, s, e);
    case K_SHAPE: return quick_shape(r, t, s, e);
    default: return 0;
  }
}

/*
 * Scans the text t[0..st.n) from st.pos. `by_field[f]` is the rule index of field f (-1: not
 * checked), for f up to st.last; `rules` the rules. Returns DONE at the end of the text, SLOW
 * with the field to judge in st, or (st.more) MORE at a field that goes on past the text; with
 * each, st.pos/field/line say where to go on (DONE with st.more: at n, the next window's start).
 */
int32_t run(const uint8_t *t, const int32_t *by_field, const Rule *rules) {
  const int32_t n = st.n;
  const int32_t last = st.last;
  const uint8_t d = (uint8_t)st.delimiter;
  const uint8_t q = (uint8_t)st.quote;
  const v128_t vd = wasm_i8x16_splat((int8_t)d);
  const v128_t vq = wasm_i8x16_splat((int8_t)q);
  const v128_t vl = wasm_i8x16_splat('\n');
  int32_t i = st.pos;
  int32_t field = st.field;
  int32_t line = st.line;
  const int32_t more = st.more;
  Window w;
  w.base = -64; /* i - base >= 64 for any i: the first find loads a window */
#define FIND_DL(at) find(&w, 0, t, (at), n, vd, vq, vl)
#define FIND_QL(at) find(&w, 1, t, (at), n, vd, vq, vl)
  while (i < n) {
    /* Where this field starts: where to go on from in the next window if this one ends inside it. */
    const int32_t field_at = i, field_no = field, field_line = line;
#define NEED_MORE()        \
  do {                     \
    st.pos = field_at;     \
    st.field = field_no;   \
    st.line = field_line;  \
    return MORE;           \
  } while (0)
    if (field > last) {
      /* Past the last checked field: to the row's LF, through quoted fields (LFs inside count). */
      const int32_t p = FIND_QL(i);
      if (p >= n) {
        if (more) NEED_MORE();
        break;
      }
      if (t[p] == '\n') {
        i = p + 1;
      } else {
        int32_t in_quotes = 0;
        for (i = p; i < n; i++) {
          i = FIND_QL(i);
          if (i >= n) break;
          if (t[i] == q) in_quotes = !in_quotes;
          else {
            if (!in_quotes) break;
            line++;
          }
        }
        if (i >= n && more) NEED_MORE();
        i++;
      }
      line++;
      field = 0;
      continue;
    }
    const int32_t k = by_field[field];
    const int32_t start = i;
    int32_t end;
    int32_t slow = 0;
    int32_t vs = 0, ve = 0, at_line = line, quoted = 0;
    if (t[i] == q) {
      /* A quoted field: to its closing quote (a doubled quote stays inside); lines inside count. */
      int32_t j = i + 1;
      for (;;) {
        j = FIND_QL(j);
        if (j >= n) {
          if (more) NEED_MORE();
          j = n;
          break;
        }
        if (t[j] == q) {
          if (j + 1 >= n && more) NEED_MORE(); /* a doubled quote, or the closing one? */
          if (j + 1 < n && t[j + 1] == q) j += 2;
          else break;
        } else {
          line++;
          j++;
        }
      }
      end = j + 1;
      if (end < n) {
        end = FIND_DL(end);
        if (end >= n) {
          if (more) NEED_MORE();
          end = n;
        }
      }
      if (k >= 0) {
        slow = 1;
        vs = start + 1;
        ve = j;
        quoted = 1;
      }
    } else {
      end = FIND_DL(i);
      if (end >= n) {
        if (more) NEED_MORE();
        end = n;
      }
      if (k >= 0) {
        const int32_t stop = end > start && t[end - 1] == '\r' && (end == n || t[end] == '\n') ? end - 1 : end;
        if (stop > start && !quick_ok(&rules[k], t, start, stop)) {
          slow = 1;
          vs = start;
          ve = stop;
        }
      }
    }
    i = end;
    if (i < n) {
      if (t[i] == d) field++;
      else {
        field = 0;
        line++;
      }
      i++;
    }
    if (slow) {
      st.pos = i;
      st.field = field;
      st.line = line;
      st.k = k;
      st.start = vs;
      st.stop = ve;
      st.at_line = at_line;
      st.quoted = quoted;
      return SLOW;
    }
  }
  st.pos = n;
  st.field = field;
  st.line = line;
  return DONE;
}

/* Where JavaScript puts the tables and the text: after the module's own data. */
extern unsigned char __heap_base;
uint8_t *heap_base(void) { return &__heap_base; }
