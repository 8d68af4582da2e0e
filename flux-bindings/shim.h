/* See shim.c: fixed-signature wrappers of variadic libflux calls. */
#include <stdint.h>
#include <flux/core.h>

int ffb_log (flux_t *h, int level, const char *msg);
int ffb_arg_int (flux_plugin_arg_t *args, const char *key, int64_t *value);
int ffb_arg_real (flux_plugin_arg_t *args, const char *key, double *value);
int ffb_arg_nested_real (flux_plugin_arg_t *args, const char *outer, const char *key, double *value);
int ffb_arg_nested_string (flux_plugin_arg_t *args, const char *outer, const char *key, const char **value);
int ffb_arg_nested_json (flux_plugin_arg_t *args, const char *outer, const char *key, char **value);
