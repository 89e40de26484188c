/* yaml-resolve.c - which strings the YAML writer must quote, and the order of
 * map keys, both as imgpkg's YAML library (go-yaml v2) decides them: a string
 * is double-quoted when a plain scalar with its text would read back as a
 * bool, null, number, timestamp or merge key (YAML 1.1 resolution, plus
 * base-60 floats), and map keys are sorted in go-yaml's "natural" order
 * (runs of digits compared as numbers). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgpkg/yaml-writer.h"
#include "util/banned.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

/* go-yaml's resolve map: bools, nulls, infinities, NaNs and the merge key */
static const char *const resolve_map[] = {
    "y",     "Y",     "yes",   "Yes",   "YES",   "true",  "True",  "TRUE",  "on",   "On",   "ON",
    "n",     "N",     "no",    "No",    "NO",    "false", "False", "FALSE", "off",  "Off",  "OFF",
    "",      "~",     "null",  "Null",  "NULL",  ".nan",  ".NaN",  ".NAN",  ".inf", ".Inf", ".INF",
    "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",    NULL};

static int digit_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* Go's strconv.ParseUint(s, base, 64) without underscores: base 0 reads a
 * 0x/0o/0b prefix or a leading 0 (octal). */
static bool go_parse_uint(const char *s, int base, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    if (base == 0) {
        base = 10;
        if (s[0] == '0') {
            size_t len = strlen(s);
            char p = (char)(s[1] | 0x20);
            if (len >= 3 && (p == 'b' || p == 'o' || p == 'x')) {
                base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
                s += 2;
            } else {
                base = 8;
                s += 1;
            }
        }
    }
    for (; *s; s++) {
        int d = digit_val(*s);
        if (d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return true;
}

/* Go's strconv.ParseInt(s, base, 64): an optional sign, then ParseUint. */
static bool go_parse_int(const char *s, int base)
{
    bool neg = false;
    uint64_t v;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    if (!go_parse_uint(s, base, &v))
        return false;
    return neg ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (*s == '.') {
        if (!is_digit(*++s))
            return false;
        while (is_digit(*s))
            s++;
    } else {
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
        if (*s == '.')
            for (s++; is_digit(*s); s++)
                ;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

/* Go's ParseFloat on text that yaml_style_float accepted: fails only when it
 * overflows to an infinity. */
static bool float_in_range(const char *s)
{
    errno = 0;
    double d = strtod(s, NULL);
    return !(errno == ERANGE && isinf(d));
}

/* Digits of a Go decimal literal: digits with single underscores between. */
static const char *go_digits(const char *s)
{
    if (!is_digit(*s))
        return NULL;
    while (is_digit(*s) || (*s == '_' && is_digit(s[1])))
        s++;
    return s;
}

/* Go's ParseFloat of a string starting with '.': ".digits" and an exponent. */
static bool go_dot_float(const char *s)
{
    if (!(s = go_digits(s + 1)))
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(s = go_digits(s)))
            return false;
    }
    return *s == '\0';
}

/* 1 or 2 digits (Go's getnum), in [lo, hi] */
static bool num12(const char **p, int lo, int hi, int *out)
{
    const char *s = *p;
    int v;
    if (!is_digit(s[0]))
        return false;
    v = s[0] - '0';
    s++;
    if (is_digit(s[0]))
        v = v * 10 + (*s++ - '0');
    if (v < lo || v > hi)
        return false;
    *p = s;
    *out = v;
    return true;
}

static int days_in(int month, int year)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : d[month - 1];
}

/* go-yaml's timestamps: YYYY-M-D, optionally followed by "T"/"t" H:M:S[.frac]
 * and a zone (Z or +hh:mm), or by " " H:M:S[.frac] without one. */
static bool yaml_timestamp(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!(is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-'))
        return false;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    s += 5;
    if (!num12(&s, 1, 12, &mo) || *s++ != '-' || !num12(&s, 1, 31, &d) || d > days_in(mo, y))
        return false;
    if (!*s)
        return true;
    char sep = *s++;
    if (sep != 'T' && sep != 't' && sep != ' ')
        return false;
    if (!num12(&s, 0, 23, &h) || *s++ != ':' || !num12(&s, 0, 59, &mi) || *s++ != ':' ||
        !num12(&s, 0, 59, &se))
        return false;
    if ((*s == '.' || *s == ',') && is_digit(s[1]))
        for (s++; is_digit(*s); s++)
            ;
    if (sep == ' ')
        return *s == '\0';
    if (s[0] == 'Z' && !s[1])
        return true;
    return (s[0] == '+' || s[0] == '-') && is_digit(s[1]) && is_digit(s[2]) && s[3] == ':' &&
           is_digit(s[4]) && is_digit(s[5]) && !s[6] && (s[1] - '0') * 10 + (s[2] - '0') <= 24 &&
           (s[4] - '0') * 10 + (s[5] - '0') <= 60;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool base60_float(const char *s)
{
    int groups = 0;
    if (*s == '+' || *s == '-')
        s++;
    if (!is_digit(*s))
        return false;
    while (is_digit(*s) || *s == '_')
        s++;
    while (*s == ':') {
        s++;
        if (*s >= '0' && *s <= '5' && is_digit(s[1]))
            s += 2;
        else if (is_digit(*s))
            s++;
        else
            return false;
        groups++;
    }
    if (!groups)
        return false;
    if (*s == '.')
        for (s++; is_digit(*s) || *s == '_'; s++)
            ;
    return *s == '\0';
}

static bool resolves_to_non_string(const char *in)
{
    char c = in[0];
    if (in_list(in, resolve_map))
        return c == '\0' || c == '~' || c == '.' || c == '+' || c == '-' || strchr("yYnNtTfFoO", c);
    if (c == '.')
        return go_dot_float(in);
    if (!(is_digit(c) || c == '+' || c == '-'))
        return false;
    if (yaml_timestamp(in))
        return true;
    size_t n = strlen(in);
    cleanup_free char *plain = ip_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i] != '_')
            plain[k++] = in[i];
    plain[k] = '\0';
    uint64_t u;
    if (go_parse_int(plain, 0) || go_parse_uint(plain, 0, &u))
        return true;
    if (yaml_style_float(plain) && float_in_range(plain))
        return true;
    if (!strncmp(plain, "0b", 2))
        return go_parse_int(plain + 2, 2) || go_parse_uint(plain + 2, 2, &u);
    if (!strncmp(plain, "-0b", 3)) {
        cleanup_free char *neg = ip_xasprintf("-%s", plain + 3);
        return go_parse_int(neg, 2);
    }
    return false;
}

bool ip_yaml_string_needs_quotes(const char *s)
{
    return resolves_to_non_string(s) || base60_float(s);
}

/* Decodes one UTF-8 code point (invalid bytes are taken one by one). */
static uint32_t next_rune(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t r = s[0];
    int n = r >= 0xf0 ? 3 : r >= 0xe0 ? 2 : r >= 0xc0 ? 1 : 0;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            n = 0;
            r = s[0];
            break;
        }
        if (i == 1)
            r &= 0x3fu >> n;
        r = (r << 6) | (s[i] & 0x3f);
    }
    *p = s + 1 + n;
    return r;
}

/* Letters as far as map keys go: ASCII letters, and every non-ASCII code
 * point from U+00C0 on (Go asks Unicode; keys are ASCII in practice). */
static bool rune_is_letter(uint32_t r)
{
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == 0xaa || r == 0xb5 ||
           r == 0xba || (r >= 0xc0 && r != 0xd7 && r != 0xf7);
}

static bool rune_is_digit(uint32_t r)
{
    return r >= '0' && r <= '9';
}

int ip_yaml_key_cmp(const char *a, const char *b)
{
    /* go-yaml's keyList.Less, on runes */
    size_t la = strlen(a), lb = strlen(b);
    cleanup_free uint32_t *ar = ip_xcalloc(la + 1, sizeof(*ar));
    cleanup_free uint32_t *br = ip_xcalloc(lb + 1, sizeof(*br));
    size_t na = 0, nb = 0;
    for (const unsigned char *p = (const unsigned char *)a; *p;)
        ar[na++] = next_rune(&p);
    for (const unsigned char *p = (const unsigned char *)b; *p;)
        br[nb++] = next_rune(&p);
    for (size_t i = 0; i < na && i < nb; i++) {
        if (ar[i] == br[i])
            continue;
        bool al = rune_is_letter(ar[i]), bl = rune_is_letter(br[i]);
        if (al && bl)
            return ar[i] < br[i] ? -1 : 1;
        if (al || bl)
            return bl ? -1 : 1;
        int64_t an = 0, bn = 0;
        size_t ai, bi;
        if (ar[i] == '0' || br[i] == '0') {
            for (size_t j = i; j-- > 0 && rune_is_digit(ar[j]);) {
                if (ar[j] != '0') {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        for (ai = i; ai < na && rune_is_digit(ar[ai]); ai++)
            an = an * 10 + (int64_t)(ar[ai] - '0');
        for (bi = i; bi < nb && rune_is_digit(br[bi]); bi++)
            bn = bn * 10 + (int64_t)(br[bi] - '0');
        if (an != bn)
            return an < bn ? -1 : 1;
        if (ai != bi)
            return ai < bi ? -1 : 1;
        return ar[i] < br[i] ? -1 : 1;
    }
    return na < nb ? -1 : na > nb ? 1 : 0;
}
