/* yaml-writer.c - block-style YAML through libyaml's emitter. */
#include <string.h>
#include <yaml.h>

#include "imgpkg/yaml-writer.h"
#include "util/banned.h"

struct ip_yaml_writer {
    yaml_emitter_t em;
    struct ip_buf buf;
};

static int out_cb(void *data, unsigned char *p, size_t n)
{
    struct ip_yaml_writer *w = data;
    struct ip_err e;
    ip_buf_add(&w->buf, p, n, &e);
    return 1;
}

struct ip_yaml_writer *ip_yaml_writer_new(bool with_marker)
{
    struct ip_yaml_writer *w = ip_xcalloc(1, sizeof(*w));
    yaml_event_t ev;
    yaml_emitter_initialize(&w->em);
    yaml_emitter_set_output(&w->em, out_cb, w);
    yaml_emitter_set_unicode(&w->em, 1);
    yaml_emitter_set_width(&w->em, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    yaml_emitter_emit(&w->em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, !with_marker);
    yaml_emitter_emit(&w->em, &ev);
    return w;
}

static void emit_scalar(struct ip_yaml_writer *w, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    yaml_emitter_emit(&w->em, &ev);
}

/* As go-yaml writes a string: text with a newline as a literal block, text
 * that would read back as something else double-quoted, else plain (the
 * emitter falls back to quotes where plain text is not allowed). */
void ip_yaml_scalar(struct ip_yaml_writer *w, const char *s)
{
    yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
    if (strchr(s, '\n'))
        style = YAML_LITERAL_SCALAR_STYLE;
    else if (ip_yaml_string_needs_quotes(s))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    emit_scalar(w, s, style);
}

void ip_yaml_plain(struct ip_yaml_writer *w, const char *s)
{
    emit_scalar(w, s, YAML_PLAIN_SCALAR_STYLE);
}

void ip_yaml_kv(struct ip_yaml_writer *w, const char *key, const char *val)
{
    ip_yaml_scalar(w, key);
    ip_yaml_scalar(w, val);
}

void ip_yaml_map_start(struct ip_yaml_writer *w)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    yaml_emitter_emit(&w->em, &ev);
}

void ip_yaml_flow_map_start(struct ip_yaml_writer *w)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_FLOW_MAPPING_STYLE);
    yaml_emitter_emit(&w->em, &ev);
}

void ip_yaml_map_end(struct ip_yaml_writer *w)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    yaml_emitter_emit(&w->em, &ev);
}

void ip_yaml_seq_start(struct ip_yaml_writer *w)
{
    yaml_event_t ev;
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    yaml_emitter_emit(&w->em, &ev);
}

void ip_yaml_seq_end(struct ip_yaml_writer *w)
{
    yaml_event_t ev;
    yaml_sequence_end_event_initialize(&ev);
    yaml_emitter_emit(&w->em, &ev);
}

int ip_yaml_writer_finish(struct ip_yaml_writer *w, struct ip_buf *out, struct ip_err *err)
{
    yaml_event_t ev;
    int rc = 0;
    yaml_document_end_event_initialize(&ev, 1);
    yaml_emitter_emit(&w->em, &ev);
    yaml_stream_end_event_initialize(&ev);
    yaml_emitter_emit(&w->em, &ev);
    yaml_emitter_flush(&w->em);
    if (w->em.error != YAML_NO_ERROR)
        rc = ip_err_set(err, IP_E_IO, "writing YAML: %s",
                        w->em.problem ? w->em.problem : "emitter failed");
    else
        ip_buf_add(out, w->buf.data ? w->buf.data : "", w->buf.len, err);
    yaml_emitter_delete(&w->em);
    ip_buf_release(&w->buf);
    free(w);
    return rc;
}
