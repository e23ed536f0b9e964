/* SPDX-License-Identifier: Apache-2.0 */
/* options.c - every command's option parsing: getopt_long with its own messages off, and the
 * one message for an option it refused, redacted (an option's text may hold a presigned URL)
 * and with a "did you mean" among the command's long options. */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* The argv element the last refused option came from (NULL: none yet). glibc's optind does
 * not say it: it stays put inside a cluster of short options and moves past a long one. */
static const char *culprit;

int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    opterr = 0; /* glibc would print the option as typed, secrets and all */
    int before = optind;
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == '?' || c == ':')
        culprit = optind == before ? argv[before] : optind > 0 ? argv[optind - 1] : NULL;
    return c;
}

int tool_bad_option(const char *cmd, char **argv, const struct option *longopts)
{
    (void)argv;
    const char *arg = culprit;
    char shown[256];
    if (arg && arg[0] == '-' && arg[1] && arg[1] != '-') {
        /* a short option: unknown, or missing its value */
        int ch = optopt ? optopt : (unsigned char)arg[1];
        for (const struct option *o = longopts; o->name; o++)
            if (optopt && o->val == optopt && o->has_arg == required_argument)
                return tool_usage_error(cmd, "option '-%c' needs a value", ch);
        if (ch > 0x20 && ch < 0x7f)
            return tool_usage_error(cmd, "unknown option '-%c'", ch);
        return tool_usage_error(cmd, "unknown option (byte \\x%02x after '-')", ch & 0xff);
    }
    if (!arg || strncmp(arg, "--", 2))
        return tool_usage_error(cmd, "unknown option '%s'",
                                arg ? ll_redact(arg, shown, sizeof shown) : "?");
    /* the name alone (never the value after '='), and that redacted too */
    char name[128];
    snprintf(name, sizeof name, "%s", arg + 2);
    char *eq = strchr(name, '=');
    if (eq)
        *eq = 0;
    eq = strchr(arg, '=');
    const char *names[256];
    size_t n = 0, hits = 0;
    const struct option *exact = NULL;
    for (const struct option *o = longopts; o->name && n < 256; o++) {
        names[n++] = o->name;
        if (!strcmp(o->name, name))
            exact = o;
        if (!strncmp(o->name, name, strlen(name)))
            hits++;
    }
    if (!exact && hits == 1) /* an abbreviation getopt took: the option it stands for */
        for (const struct option *o = longopts; o->name; o++)
            if (!strncmp(o->name, name, strlen(name)))
                exact = o;
    if (exact && exact->has_arg == required_argument && !eq)
        return tool_usage_error(cmd, "option '--%s' needs a value", exact->name);
    if (exact && exact->has_arg == no_argument && eq)
        return tool_usage_error(cmd, "option '--%s' takes no value", exact->name);
    ll_redact(name, shown, sizeof shown);
    if (!exact && hits > 1)
        return tool_usage_error(cmd, "option '--%s' is ambiguous (%zu options begin so)", shown,
                                hits);
    const char *near = ll_closest(name, names, n);
    if (near)
        return tool_usage_error(cmd, "unknown option '--%s'; did you mean '--%s'?", shown, near);
    return tool_usage_error(cmd, "unknown option '--%s'", shown);
}
