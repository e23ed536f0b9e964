/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.h - the training report (docs/REPORT.md): one self-contained HTML page drawn from the
 * metrics JSON document (inline SVG and CSS, nothing fetched, no scripts), and the closing
 * summary for people. Reads only the document; knows nothing of training.
 */
#ifndef LL_REPORT_H
#define LL_REPORT_H
#include "linlearn.h"
#include <jansson.h>

/* The page for doc (borrowed) as a new string (free()); NULL when out of memory. */
char *report_html(const json_t *doc);

/* What ll_train does with its metrics document at the end: writes the page to html (NULL:
 * not), then hands the document's text to summary (NULL: not). */
ll_code report_outputs(const json_t *doc, const char *html, ll_log_fn summary, void *ud,
                       ll_err *err);
#endif
