/* errfmt.c - imgpkg's error form.  imgpkg prints "imgpkg: Error: " and its
 * error through go-cli-ui's MultiLineError: on the first line, outside
 * brackets, each ": " before an uppercase letter becomes a line break, and
 * the chunks are indented by two spaces more each:
 *
 *   imgpkg: Error: Fetching image:
 *     GET http://127.0.0.1:5999/v2/nope/x/manifests/v1:
 *       MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]
 *
 * Our messages are one line (newlines from libraries become spaces first),
 * so the whole message is that first line.  A closing bracket without its
 * opening one is kept as text (go-cli-ui drops the rest of the line there). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "imgpkg/util.h"
#include "util/banned.h"

char *cli_error_multiline(const char *msg)
{
    struct ip_buf b = IP_BUF_INIT;
    size_t n = strlen(msg), depth = 0, chunk = 0;
    bool raw = false;
    for (size_t i = 0; i < n; i++) {
        char c = msg[i] == '\n' || msg[i] == '\r' ? ' ' : msg[i];
        if (raw) {
            ip_buf_printf(&b, "%c", c);
            if (i >= 3 && !strncmp(msg + i - 3, "|...", 4))
                raw = false;
            continue;
        }
        if (c == '[' || c == '(' || c == '{') {
            depth++;
        } else if ((c == ']' || c == ')' || c == '}') && depth) {
            depth--;
        } else if (i + 4 < n && !strncmp(msg + i, "...|", 4)) {
            raw = true;
        } else if (!depth && c == ':' && msg[i + 1] == ' ' && msg[i + 2] >= 'A' &&
                   msg[i + 2] <= 'Z') {
            ip_buf_adds(&b, ":\n");
            chunk++;
            for (size_t k = 0; k < chunk; k++)
                ip_buf_adds(&b, "  ");
            i++; /* the space */
            continue;
        }
        ip_buf_printf(&b, "%c", c);
    }
    ip_buf_adds(&b, "");
    return ip_buf_detach(&b, NULL);
}

void cli_print_error(FILE *out, const char *msg)
{
    cleanup_free char *text = cli_error_multiline(msg);
    fprintf(out, "imgpkg: Error: %s\n", text);
}
