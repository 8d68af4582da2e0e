/* Non-variadic entry points for the few variadic libflux calls the bindings need.
 *
 * Rust can call C variadic functions, but their arguments are not type-checked: a
 * wrong format/argument pairing reads garbage and crashes the broker.  Each wrapper
 * here pairs one constant format with its exactly-typed arguments, checked by the C
 * compiler, so Rust only ever calls fixed signatures.
 */
#include <flux/core.h>
#include <jansson.h>
#include <stdint.h>

int ffb_log (flux_t *h, int level, const char *msg)
{
    return flux_log (h, level, "%s", msg);
}

/* "I" unpacks a json_int_t (long long). */
int ffb_arg_int (flux_plugin_arg_t *args, const char *key, int64_t *value)
{
    long long v;
    if (flux_plugin_arg_unpack (args, FLUX_PLUGIN_ARG_IN, "{s:I}", key, &v) < 0)
        return -1;
    *value = v;
    return 0;
}

int ffb_arg_real (flux_plugin_arg_t *args, const char *key, double *value)
{
    return flux_plugin_arg_unpack (args, FLUX_PLUGIN_ARG_IN, "{s:F}", key, value);
}

int ffb_arg_nested_real (flux_plugin_arg_t *args,
                         const char *outer,
                         const char *key,
                         double *value)
{
    return flux_plugin_arg_unpack (args,
                                   FLUX_PLUGIN_ARG_IN,
                                   "{s:{s:F}}",
                                   outer,
                                   key,
                                   value);
}

/* The string points into the args object and lives as long as it. */
int ffb_arg_nested_string (flux_plugin_arg_t *args,
                           const char *outer,
                           const char *key,
                           const char **value)
{
    return flux_plugin_arg_unpack (args,
                                   FLUX_PLUGIN_ARG_IN,
                                   "{s:{s:s}}",
                                   outer,
                                   key,
                                   value);
}

/* The compact JSON text of "{outer: {key: ...}}" (e.g. an eventlog entry's context),
 * malloc'd (free it with free()); *value is NULL when the key is absent. */
int ffb_arg_nested_json (flux_plugin_arg_t *args,
                         const char *outer,
                         const char *key,
                         char **value)
{
    json_t *o = NULL;

    *value = NULL;
    if (flux_plugin_arg_unpack (args,
                                FLUX_PLUGIN_ARG_IN,
                                "{s:{s?o}}",
                                outer,
                                key,
                                &o) < 0)
        return -1;
    if (o && !(*value = json_dumps (o, JSON_COMPACT | JSON_ENCODE_ANY)))
        return -1;
    return 0;
}
